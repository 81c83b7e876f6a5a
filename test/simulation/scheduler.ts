/**
 * A cooperative scheduler over the memory stores' yield point. Every store
 * operation of every running task (a handler invocation) blocks at a gate; the
 * scheduler releases exactly one gate at a time, chosen by the seeded PRNG, and
 * then waits until every task has run to its next gate or finished (the stores
 * are microtask-only once the yield point is ours, so one setImmediate turn is
 * enough). Time is virtual: deps.sleep registers a wake-up here, the clock moves
 * only when the scheduler moves it.
 */
import type { ManualClock } from '../../functions/adapters/memory/index.js';
import type { Prng } from './prng.js';

/** A handler invocation dying between two store writes (Lambda timeout, OOM, crash). */
export class CrashError extends Error {
  constructor(task: string, operation: string) {
    super(`injected crash: ${task} died before ${operation}`);
    this.name = 'CrashError';
  }
}

export type TaskKind =
  | 'setup'
  | 'heartbeat'
  | 'detector'
  | 'replicate'
  | 'sweep'
  | 'reconcile'
  | 'produce'
  | 'consume'
  | 'group'
  | 'shutdown'
  | 'elect';

export interface Task {
  readonly id: number;
  readonly name: string;
  readonly kind: TaskKind;
  crashed: boolean;
  settled: boolean;
  /** Virtual time until which the task's gates and wake-ups are held (a paused process). */
  pausedUntil: number;
  /**
   * Its store operations pass without a gate: it runs to its end within the step that
   * started it (a flood of requests landing between two steps of the others).
   */
  readonly atomic: boolean;
  readonly gates: Gate[];
  readonly sleepers: Sleeper[];
}

interface Gate {
  seq: number;
  task: Task;
  operation: string;
  resolve(): void;
  reject(error: Error): void;
}

interface Sleeper {
  seq: number;
  task: Task;
  wakeAt: number;
  resolve(): void;
  reject(error: Error): void;
}

interface Timer {
  seq: number;
  at: number;
  name: string;
  fire(): Promise<void> | void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface SchedulerOptions {
  /** Largest virtual latency of one store operation, in ms. */
  maxLatencyMs: number;
  /** Chance that a due timer/wake-up goes before a runnable gate. */
  timerBias: number;
  /** The key state appended to each trace line. */
  describeState(): string;
  /** Keep every trace line (determinism tests) or only the last `traceTail`. */
  keepFullTrace: boolean;
  traceTail: number;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Scheduler {
  private seq = 0;
  private taskIds = 0;
  private current: Task | null = null;
  private readonly tasks = new Set<Task>();
  private timers: Timer[] = [];
  steps = 0;
  /** Decides, per released gate, whether its task crashes there instead. */
  crashPolicy: (task: Task, operation: string) => boolean = () => false;
  readonly trace: string[] = [];
  private readonly startedAt: number;

  constructor(
    private readonly clock: ManualClock,
    private readonly rng: Prng,
    private readonly options: SchedulerOptions,
  ) {
    this.startedAt = clock.now();
  }

  /** For createMemoryDeps: every store operation waits here. */
  readonly yieldPoint = (operation: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const task = this.current;
      if (!task) {
        reject(new Error(`store operation ${operation} outside any simulated task`));
        return;
      }
      if (task.crashed) {
        reject(new CrashError(task.name, operation));
        return;
      }
      if (task.atomic) {
        resolve();
        return;
      }
      task.gates.push({ seq: this.seq++, task, operation, resolve, reject });
    });

  /** For deps.sleep: a wake-up in virtual time. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const task = this.current;
      if (!task) {
        reject(new Error('sleep outside any simulated task'));
        return;
      }
      if (task.crashed) {
        reject(new CrashError(task.name, 'sleep'));
        return;
      }
      task.sleepers.push({ seq: this.seq++, task, wakeAt: this.clock.now() + Math.max(0, ms), resolve, reject });
    });

  now(): number {
    return this.clock.now();
  }

  /** The heal phase runs on a healthy network: store operations get fast again. */
  setMaxLatency(ms: number): void {
    this.options.maxLatencyMs = ms;
  }

  /** Starts a task: it runs to its first gate. `onDone` runs synchronously when it settles (bookkeeping only). */
  async spawn<T>(
    name: string,
    kind: TaskKind,
    work: () => Promise<T>,
    onDone?: (outcome: Outcome<T>) => void,
    options: { atomic?: boolean } = {},
  ): Promise<Task> {
    const task: Task = {
      id: this.taskIds++,
      name,
      kind,
      crashed: false,
      settled: false,
      pausedUntil: 0,
      atomic: options.atomic ?? false,
      gates: [],
      sleepers: [],
    };
    this.tasks.add(task);
    this.record(task.name, 'start');
    this.current = task;
    let promise: Promise<T>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    promise.then(
      (value) => {
        task.settled = true;
        onDone?.({ ok: true, value });
      },
      (error: unknown) => {
        task.settled = true;
        onDone?.({ ok: false, error });
      },
    );
    await settle();
    this.current = null;
    this.forgetIfIdle(task);
    return task;
  }

  at(at: number, name: string, fire: () => Promise<void> | void): void {
    this.timers.push({ seq: this.seq++, at, name, fire });
  }

  after(ms: number, name: string, fire: () => Promise<void> | void): void {
    this.at(this.clock.now() + ms, name, fire);
  }

  /** Tasks still holding gates or wake-ups (settled ones may have orphan branches of a Promise.all). */
  liveTasks(): Task[] {
    return [...this.tasks];
  }

  pause(task: Task, until: number): void {
    task.pausedUntil = until;
    this.record(task.name, `PAUSED until +${until - this.startedAt}`);
  }

  unpauseAll(): void {
    for (const task of this.tasks) task.pausedUntil = 0;
  }

  /** Kills the task: every gate and wake-up it holds, and every one it reaches later, fails with CrashError. */
  async crash(task: Task, operation: string): Promise<void> {
    task.crashed = true;
    this.record(task.name, `CRASH at ${operation}`);
    const gates = task.gates.splice(0);
    const sleepers = task.sleepers.splice(0);
    this.current = task;
    for (const gate of gates) gate.reject(new CrashError(task.name, gate.operation));
    for (const sleeper of sleepers) sleeper.reject(new CrashError(task.name, 'sleep'));
    await settle();
    this.current = null;
    this.forgetIfIdle(task);
  }

  /**
   * One scheduling decision: release a gate (or crash its task), fire a due
   * timer, wake a sleeper, or move the clock to the next event. Returns false
   * when nothing at all is left to do.
   */
  async step(): Promise<boolean> {
    this.steps++;
    const now = this.clock.now();
    const runnable = this.runnableGates(now);
    const due = this.dueEvent(now);
    if (runnable.length === 0 && !due) {
      const next = this.nextEventTime(now);
      if (next === undefined) return false;
      this.clock.advance(next - now);
      return true;
    }
    if (due && (runnable.length === 0 || this.rng.chance(this.options.timerBias))) {
      await this.fire(due);
      return true;
    }
    const gate = this.rng.pick(runnable);
    if (this.crashPolicy(gate.task, gate.operation)) {
      await this.crash(gate.task, gate.operation);
    } else {
      this.record(gate.task.name, gate.operation);
      const task = gate.task;
      task.gates.splice(task.gates.indexOf(gate), 1);
      this.current = task;
      gate.resolve();
      await settle();
      this.current = null;
      this.forgetIfIdle(task);
    }
    this.clock.advance(this.rng.int(this.options.maxLatencyMs + 1));
    return true;
  }

  /** True when no task holds a gate or wake-up. */
  idle(): boolean {
    return this.tasks.size === 0;
  }

  private runnableGates(now: number): Gate[] {
    const gates: Gate[] = [];
    for (const task of this.tasks) if (task.pausedUntil <= now) gates.push(...task.gates);
    return gates.sort((a, b) => a.seq - b.seq);
  }

  private dueEvent(now: number): Timer | Sleeper | undefined {
    let best: Timer | Sleeper | undefined;
    const better = (candidate: Timer | Sleeper, at: number) => {
      if (at > now) return;
      const bestAt = best ? ('wakeAt' in best ? best.wakeAt : best.at) : Infinity;
      if (at < bestAt || (at === bestAt && candidate.seq < best!.seq)) best = candidate;
    };
    for (const timer of this.timers) better(timer, timer.at);
    for (const task of this.tasks) {
      if (task.pausedUntil > now) continue;
      for (const sleeper of task.sleepers) better(sleeper, sleeper.wakeAt);
    }
    return best;
  }

  private nextEventTime(now: number): number | undefined {
    let next = Infinity;
    for (const timer of this.timers) next = Math.min(next, timer.at);
    for (const task of this.tasks) {
      const held = task.pausedUntil > now;
      if (held && (task.gates.length > 0 || task.sleepers.length > 0)) next = Math.min(next, task.pausedUntil);
      for (const sleeper of task.sleepers) next = Math.min(next, Math.max(sleeper.wakeAt, held ? task.pausedUntil : 0));
    }
    return next === Infinity ? undefined : Math.max(next, now);
  }

  private async fire(event: Timer | Sleeper): Promise<void> {
    if ('wakeAt' in event) {
      const task = event.task;
      task.sleepers.splice(task.sleepers.indexOf(event), 1);
      this.record(task.name, 'wake');
      this.current = task;
      event.resolve();
      await settle();
      this.current = null;
      this.forgetIfIdle(task);
    } else {
      this.timers.splice(this.timers.indexOf(event), 1);
      await event.fire();
    }
  }

  private forgetIfIdle(task: Task): void {
    if (task.settled && task.gates.length === 0 && task.sleepers.length === 0) this.tasks.delete(task);
  }

  record(who: string, what: string): void {
    const line = `#${this.steps} +${this.clock.now() - this.startedAt}ms ${who} ${what} | ${this.options.describeState()}`;
    this.trace.push(line);
    if (!this.options.keepFullTrace && this.trace.length > this.options.traceTail * 4) {
      this.trace.splice(0, this.trace.length - this.options.traceTail);
    }
  }
}
