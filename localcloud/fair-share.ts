/**
 * Shares one emulator fairly between the functions that call it. DynamoDB Local serves
 * requests from one in-memory database, a few milliseconds each: a burst of one function
 * (ten produce sandboxes polling for their acknowledgement) would otherwise fill its queue,
 * and another function's requests (a broker's heartbeat) would wait behind all of it —
 * something real DynamoDB, with its per-partition capacity, never does. Here at most
 * `maxInFlight` requests are at the emulator at once, and the waiting ones are served
 * round-robin by caller (one FIFO per caller), so a caller waits for at most one
 * request of each other busy caller, not for their whole backlog.
 */

type Start = () => void;

export class FairShare {
  private inFlight = 0;
  /** Callers with waiting requests, in round-robin order; each with its FIFO. */
  private readonly queues = new Map<string, Start[]>();

  constructor(private readonly maxInFlight: number) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  }

  /** Requests waiting for their turn, over all callers. */
  get waiting(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  /**
   * Runs `start` now or in `caller`'s turn. `start` must call the `done` it is given
   * exactly once, when the request is over (answered, failed or abandoned). Returns a
   * cancel function for a request that is abandoned while it still waits.
   */
  submit(caller: string, start: (done: () => void) => void): () => void {
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      this.inFlight -= 1;
      this.next();
    };
    const run: Start = () => {
      this.inFlight += 1;
      start(done);
    };
    if (this.inFlight < this.maxInFlight && this.queues.size === 0) {
      run();
      return () => undefined;
    }
    const queue = this.queues.get(caller) ?? [];
    queue.push(run);
    this.queues.set(caller, queue);
    return () => {
      const index = queue.indexOf(run);
      if (index < 0) return;
      queue.splice(index, 1);
      if (queue.length === 0 && this.queues.get(caller) === queue) this.queues.delete(caller);
    };
  }

  private next(): void {
    while (this.inFlight < this.maxInFlight && this.queues.size > 0) {
      // The first caller in line gets one request through, then goes to the back of the line.
      const [caller, queue] = this.queues.entries().next().value as [string, Start[]];
      this.queues.delete(caller);
      const run = queue.shift();
      if (queue.length > 0) this.queues.set(caller, queue);
      run?.();
    }
  }
}
