/**
 * Shares one emulator fairly between the functions that call it. DynamoDB Local serves
 * requests from one in-memory database, a few milliseconds each: a burst of one function
 * (ten produce sandboxes polling for their acknowledgement) would otherwise fill its queue,
 * and another function's requests (a broker's heartbeat) would wait behind all of it —
 * something real DynamoDB, with its per-partition capacity, never does.
 *
 * Here at most `maxInFlight` requests are at the emulator at once. The waiting ones are
 * served by virtual time, as a fair-share CPU scheduler does: each caller's clock counts
 * the requests it was served, a caller that has been idle starts again at the current
 * time (no banked credit), and the caller with the earliest clock goes next (FIFO within
 * a caller). A light caller (a heartbeat's few requests) thus waits for the requests in
 * flight, not for heavy callers' backlogs.
 */

type Start = () => void;

interface Caller {
  queue: Start[];
  /** Requests served, on the shared virtual clock. */
  vtime: number;
  stats: CallerStats;
}

/**
 * What one caller's requests cost, summed since the share was made: the benchmarks read it
 * to tell queueing (waiting for a turn) from the emulator's own service time.
 */
export interface CallerStats {
  /** Requests that finished (answered, failed or abandoned once started). */
  requests: number;
  /** Time they waited for their turn, summed (ms). */
  waitMs: number;
  /** Time from their start to their end, summed (ms). */
  serveMs: number;
  /** The longest single wait (ms). */
  maxWaitMs: number;
}

export class FairShare {
  private inFlight = 0;
  /** Virtual time of the request served last. */
  private clock = 0;
  private readonly callers = new Map<string, Caller>();

  constructor(
    private readonly maxInFlight: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  }

  /** Requests waiting for their turn, over all callers. */
  get waiting(): number {
    let count = 0;
    for (const caller of this.callers.values()) count += caller.queue.length;
    return count;
  }

  /**
   * Runs `start` now or in `caller`'s turn. `start` must call the `done` it is given
   * exactly once, when the request is over (answered, failed or abandoned). Returns a
   * cancel function for a request that is abandoned while it still waits.
   */
  submit(callerName: string, start: (done: () => void) => void): () => void {
    const caller = this.callers.get(callerName) ?? { queue: [], vtime: this.clock, stats: { requests: 0, waitMs: 0, serveMs: 0, maxWaitMs: 0 } };
    this.callers.set(callerName, caller);
    if (caller.queue.length === 0) caller.vtime = Math.max(caller.vtime, this.clock); // back from idle: no banked credit
    let finished = false;
    const submittedAt = this.now();
    const run: Start = () => {
      this.inFlight += 1;
      const startedAt = this.now();
      start(() => {
        if (finished) return;
        finished = true;
        this.inFlight -= 1;
        const { stats } = caller;
        stats.requests += 1;
        stats.waitMs += startedAt - submittedAt;
        stats.serveMs += this.now() - startedAt;
        stats.maxWaitMs = Math.max(stats.maxWaitMs, startedAt - submittedAt);
        this.next();
      });
    };
    if (this.inFlight < this.maxInFlight && this.waiting === 0) {
      this.serve(caller, run);
      return () => undefined;
    }
    caller.queue.push(run);
    return () => {
      const index = caller.queue.indexOf(run);
      if (index >= 0) caller.queue.splice(index, 1);
    };
  }

  /** Each caller's totals so far (a copy): subtract two snapshots for a window. */
  stats(): Record<string, CallerStats> {
    return Object.fromEntries([...this.callers].map(([name, caller]) => [name, { ...caller.stats }]));
  }

  private serve(caller: Caller, run: Start): void {
    this.clock = caller.vtime;
    caller.vtime += 1;
    run();
  }

  private next(): void {
    while (this.inFlight < this.maxInFlight) {
      let earliest: Caller | undefined;
      for (const caller of this.callers.values()) {
        if (caller.queue.length > 0 && (!earliest || caller.vtime < earliest.vtime)) earliest = caller;
      }
      const run = earliest?.queue.shift();
      if (!earliest || !run) return;
      this.serve(earliest, run);
    }
  }
}
