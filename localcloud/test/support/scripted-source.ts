/** A BatchSource double for the pollers' batching: yields scripted arrivals, one fetch at a time. */
import type { BatchSource } from '../../esm/batching.js';

export class ScriptedSource<T = number> implements BatchSource<T> {
  readonly buffer: T[] = [];
  exhausted = false;
  fetches = 0;
  constructor(private readonly arrivals: T[][]) {}
  fetch(): Promise<number> {
    const next = this.arrivals[this.fetches++] ?? [];
    this.buffer.push(...next);
    return Promise.resolve(next.length);
  }
}
