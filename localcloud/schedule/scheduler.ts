/**
 * EventBridge schedules for the embedded cloud: each rule's targets are invoked on
 * its rate(...) schedule (see schedule/expression.ts),
 * with the rule's constant Input, or else an EventBridge "Scheduled Event". Like
 * EventBridge, invocations are asynchronous: a failure is logged, never retried.
 * A rate's first firing is one period after start (EventBridge: "within a period").
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../shared/log.js';
import { parseScheduleExpression, type Schedule } from './expression.js';
import type { InvokeResult, LambdaRuntime, ScheduleSpec } from '../types.js';

export { ScheduleExpressionError } from './expression.js';

export class UnknownScheduleError extends Error {
  constructor(name: string) {
    super(`No schedule named ${name}`);
    this.name = 'UnknownScheduleError';
  }
}

interface Entry {
  spec: ScheduleSpec;
  schedule: Schedule;
  timer?: NodeJS.Timeout;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log = createLogger('scheduler');
  private readonly region: string;
  private readonly accountId: string;
  private running = false;

  /** `opts` only shapes the Scheduled Event (region, account, rule ARN). */
  constructor(
    private readonly runtime: LambdaRuntime,
    opts: { region?: string; accountId?: string } = {},
  ) {
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? '000000000000';
  }

  /** Adds or replaces a schedule. Throws ScheduleExpressionError for an expression it cannot run. */
  upsert(spec: ScheduleSpec): void {
    const schedule = parseScheduleExpression(spec.scheduleExpression);
    this.disarm(spec.name);
    const entry: Entry = { spec: structuredClone(spec), schedule };
    this.entries.set(spec.name, entry);
    if (this.running) this.arm(entry);
  }

  remove(name: string): void {
    this.disarm(name);
    this.entries.delete(name);
  }

  list(): ScheduleSpec[] {
    return [...this.entries.values()].map((e) => structuredClone(e.spec));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const entry of this.entries.values()) this.arm(entry);
  }

  /** Stops the timers and waits for invocations already started. */
  async stop(): Promise<void> {
    this.running = false;
    for (const name of this.entries.keys()) this.disarm(name);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Fires a schedule at once (tests, `npm start` narration); resolves with each target's result. */
  async invokeNow(name: string): Promise<InvokeResult[]> {
    const entry = this.entries.get(name);
    if (!entry) throw new UnknownScheduleError(name);
    return this.fire(entry);
  }

  private arm(entry: Entry): void {
    entry.timer = setInterval(() => void this.fire(entry).catch(() => undefined), entry.schedule.periodMs);
    entry.timer.unref();
  }

  private disarm(name: string): void {
    const entry = this.entries.get(name);
    if (entry?.timer) clearInterval(entry.timer);
    if (entry) entry.timer = undefined;
  }

  private scheduledEvent(spec: ScheduleSpec): unknown {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [`arn:aws:events:${this.region}:${this.accountId}:rule/${spec.name}`],
      detail: {},
    };
  }

  private async fire(entry: Entry): Promise<InvokeResult[]> {
    const { spec } = entry;
    const payload = spec.input === undefined ? this.scheduledEvent(spec) : spec.input;
    const invocation = Promise.all(
      spec.targetFunctionNames.map(async (fn) => {
        const result = await this.runtime.invoke(fn, payload);
        if (result.error) this.log.warn(`${spec.name} → ${fn} failed: ${result.error.errorType}: ${result.error.errorMessage}`);
        return result;
      }),
    );
    this.inFlight.add(invocation);
    try {
      return await invocation;
    } catch (err) {
      this.log.error(`${spec.name}: invoking its targets failed`, err);
      throw err;
    } finally {
      this.inFlight.delete(invocation);
    }
  }
}
