import type { Clock } from '../../ports/index.js';

/** A clock that moves only when told to, so lease expiry and timeouts are exact in tests. */
export class ManualClock implements Clock {
  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
