import { describe, expect, it } from 'vitest';
import type { Sandbox, SandboxInvocation, SandboxOutcome } from '../../../lambda/sandbox.js';
import { SandboxPool } from '../../../lambda/sandbox-pool.js';

/**
 * A sandbox double. `stuck` makes its next run fail while it still counts the invocation
 * as running: the state a failed hand-off used to leave behind.
 */
class FakeSandbox {
  alive = true;
  isRunning = false;
  terminated = false;
  stuck = false;
  readonly initialized = Promise.resolve();
  readonly ran: string[] = [];

  constructor(readonly id: number) {}

  run(invocation: SandboxInvocation): Promise<SandboxOutcome> {
    if (!this.alive) throw new Error(`sandbox ${this.id} is terminated`);
    if (this.isRunning) throw new Error(`sandbox ${this.id} is busy`);
    this.ran.push(invocation.requestId);
    this.isRunning = true;
    if (this.stuck) return Promise.reject(new RangeError('Maximum call stack size exceeded'));
    this.isRunning = false;
    return Promise.resolve({ ok: true, payloadJson: JSON.stringify({ sandbox: this.id }), durationMs: 1 });
  }

  terminate(): Promise<void> {
    this.alive = false;
    this.terminated = true;
    return Promise.resolve();
  }
}

function poolOf(maxConcurrency: number, stuckFirst = true): { pool: SandboxPool; created: FakeSandbox[] } {
  const created: FakeSandbox[] = [];
  const pool = new SandboxPool(() => {
    const sandbox = new FakeSandbox(created.length + 1);
    sandbox.stuck = stuckFirst && created.length === 0;
    created.push(sandbox);
    return sandbox as unknown as Sandbox;
  }, maxConcurrency);
  return { pool, created };
}

const invocation = (requestId: string): SandboxInvocation => ({ requestId, event: {}, onLog: () => {} });

describe('SandboxPool', () => {
  it('never puts a sandbox back on the idle list while it still counts an invocation as running', async () => {
    const { pool, created } = poolOf(10);

    await expect(pool.run(invocation('poisoned'))).rejects.toThrow(RangeError);
    const next = await pool.run(invocation('next'));

    expect(next).toMatchObject({ ok: true, payloadJson: '{"sandbox":2}' });
    expect(created[0]?.terminated).toBe(true);
    expect(created[0]?.ran).toEqual(['poisoned']);
    expect(pool.size).toBe(1);
  });

  it('never hands such a sandbox to an invocation waiting for one: a fresh one runs it', async () => {
    const { pool, created } = poolOf(1);

    const poisoned = pool.run(invocation('poisoned'));
    const waiting = pool.run(invocation('waiting'));

    await expect(poisoned).rejects.toThrow(RangeError);
    await expect(waiting).resolves.toMatchObject({ ok: true, payloadJson: '{"sandbox":2}' });
    expect(created[0]?.terminated).toBe(true);
    expect(created[0]?.ran).toEqual(['poisoned']);
  });

  it('reuses a sandbox whose invocation ended', async () => {
    const { pool, created } = poolOf(10, false);

    await pool.run(invocation('first'));
    await pool.run(invocation('second'));

    expect(created).toHaveLength(1);
    expect(created[0]?.ran).toEqual(['first', 'second']);
    expect(created[0]?.terminated).toBe(false);
  });
});
