/**
 * The execution environments of one version of one function. A warm idle sandbox is
 * reused; when all are busy a new one starts (a cold start), up to a concurrency cap,
 * beyond which invocations wait their turn instead of being throttled.
 *
 * At most `maxConcurrentInits` sandboxes of the function import their code at once: a
 * module import is pure CPU, and ten at once (a produce burst) left a 2-core machine's
 * other functions (the brokers' heartbeats) waiting up to half a second. Invocations
 * beyond that wait for the next sandbox to finish its init, or for a warm one.
 */
import type { Sandbox, SandboxInvocation, SandboxOutcome } from './sandbox.js';

export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
}

export class SandboxPool {
  private idle: Sandbox[] = [];
  private readonly busy = new Set<Sandbox>();
  /** Sandboxes still importing their code. */
  private initializing = 0;
  private waiters: Array<{ resolve: (sandbox: Sandbox) => void; reject: (error: Error) => void }> = [];
  /** Replaced by a redeploy: finish what is queued, keep nothing warm. */
  private retired = false;
  private closed = false;

  constructor(
    private readonly newSandbox: () => Sandbox,
    private readonly maxConcurrency: number,
    private readonly maxConcurrentInits = 2,
  ) {}

  get size(): number {
    return this.idle.length + this.busy.size;
  }

  async run(invocation: SandboxInvocation): Promise<SandboxOutcome> {
    const sandbox = await this.acquire();
    try {
      return await sandbox.run(invocation);
    } finally {
      this.release(sandbox);
    }
  }

  /** Stop keeping sandboxes warm; queued and running invocations still complete. */
  async retire(): Promise<void> {
    this.retired = true;
    await this.terminateIdle();
  }

  /** Terminate everything now; running invocations end with Runtime.ExitError. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters) waiter.reject(new PoolClosedError('the Lambda runtime was closed'));
    this.waiters = [];
    const running = [...this.busy];
    this.busy.clear();
    await Promise.all([this.terminateIdle(), ...running.map((sandbox) => sandbox.terminate())]);
  }

  private acquire(): Promise<Sandbox> {
    if (this.closed) return Promise.reject(new PoolClosedError('the Lambda runtime was closed'));
    const warm = this.takeIdle();
    if (warm) return Promise.resolve(this.markBusy(warm));
    if (this.canStartAnother()) return Promise.resolve(this.markBusy(this.createSandbox()));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private canStartAnother(): boolean {
    return this.busy.size < this.maxConcurrency && this.initializing < this.maxConcurrentInits;
  }

  private createSandbox(): Sandbox {
    const sandbox = this.newSandbox();
    this.initializing += 1;
    void sandbox.initialized.then(() => {
      this.initializing -= 1;
      this.startForWaiters();
    });
    return sandbox;
  }

  /** Cold-starts sandboxes for waiting invocations while the caps allow. */
  private startForWaiters(): void {
    while (!this.closed && this.waiters.length > 0 && this.canStartAnother()) {
      this.waiters.shift()?.resolve(this.markBusy(this.createSandbox()));
    }
  }

  private release(sandbox: Sandbox): void {
    if (!this.busy.delete(sandbox)) return; // already dropped by close()
    // Its run ended (settled or threw) yet it still counts an invocation as running: handed on,
    // it would refuse every call as busy until that invocation's timeout. It is not reused.
    if (sandbox.alive && sandbox.isRunning) void sandbox.terminate();
    const waiter = this.waiters.shift();
    if (waiter) {
      // A sandbox that died (timeout, crash) is replaced so the queue keeps moving.
      waiter.resolve(this.markBusy(sandbox.alive ? sandbox : this.createSandbox()));
      return;
    }
    if (!sandbox.alive) return;
    if (this.retired) void sandbox.terminate();
    else this.idle.push(sandbox);
  }

  private takeIdle(): Sandbox | undefined {
    // Most recently used first: its caches are the warmest. Dead ones (crashed while idle) are skipped.
    for (let sandbox = this.idle.pop(); sandbox; sandbox = this.idle.pop()) {
      if (sandbox.alive) return sandbox;
    }
    return undefined;
  }

  private markBusy(sandbox: Sandbox): Sandbox {
    this.busy.add(sandbox);
    return sandbox;
  }

  private async terminateIdle(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((sandbox) => sandbox.terminate()));
  }
}
