/**
 * The Lambda service of the embedded cloud: a registry of functions, each backed by a pool
 * of worker-thread sandboxes. Invocations return what Lambda would report: payload or
 * error, the invocation's log with START/END/REPORT lines, and the handler's duration.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ChaosFaults } from '../chaos.js';
import { logGroupName, type SandboxSettings } from './env.js';
import type { FunctionLogWriter, LogEvent } from '../logs/store.js';
import { endLine, InvocationLog, reportLine, startLine, type LogSink } from './invocation-logs.js';
import { Sandbox, type SandboxOutcome } from './sandbox.js';
import { SandboxPool } from './sandbox-pool.js';
import { functionNameOf } from '../shared/arn.js';
import type { UsageMeter } from '../billing/usage-meter.js';
import { TooManyRequestsError, type FunctionSpec, type InvokeResult, type LambdaRuntime } from '../types.js';

export interface WorkerRuntimeOptions extends SandboxSettings {
  /** Receives every log line of every function, prefixed with `[function-name] `. */
  logSink?: LogSink;
  /**
   * Sandboxes per function; further concurrent invocations queue. Default 10. (A function's
   * reserved concurrency, below or above it, is a limit of another kind: invocations beyond
   * it are throttled, not queued.)
   */
  maxConcurrencyPerFunction?: number;
  /** CloudWatch Logs: every invocation's events go to the function's group (`/aws/lambda/<function>` unless its LoggingConfig names one). */
  logWriter?: FunctionLogWriter;
  /** The fault mode (chaos.ts): invocations may be killed mid-run or time out early. */
  chaos?: ChaosFaults;
  /** Bills each invocation that ran: its billed duration (initialization included) and its log bytes. */
  usage?: UsageMeter;
}

export class FunctionNotFoundError extends Error {
  override readonly name = 'FunctionNotFoundError';
  constructor(readonly functionName: string) {
    super(`Function not found: ${functionName}`);
  }
}

interface Deployment {
  spec: FunctionSpec;
  pool: SandboxPool;
  /** Lambda names a stream after the date and the execution environment; here one per deployed code version. */
  logStream: string;
}

function logStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

export class WorkerLambdaRuntime implements LambdaRuntime {
  private readonly deployments = new Map<string, Deployment>();
  /** Pools replaced by a redeploy, still finishing in-flight work; close() must reach them too. */
  private readonly retired = new Set<SandboxPool>();
  /** Invocations running or queued, per function name (across redeploys: they share its concurrency). */
  private readonly inFlight = new Map<string, number>();
  private codeVersion = 0;

  constructor(private readonly options: WorkerRuntimeOptions) {}

  register(spec: FunctionSpec): void {
    const previous = this.deployments.get(spec.name);
    this.deployments.set(spec.name, { spec, pool: this.createPool(spec), logStream: logStreamName() });
    // In-flight invocations of the old code finish; the next one cold-starts the new code.
    if (previous) this.retire(previous.pool);
  }

  unregister(name: string): void {
    const deployment = this.deployments.get(name);
    this.deployments.delete(name);
    if (deployment) this.retire(deployment.pool);
  }

  get(nameOrArn: string): FunctionSpec | undefined {
    return this.deployments.get(functionNameOf(nameOrArn))?.spec;
  }

  list(): FunctionSpec[] {
    return [...this.deployments.values()].map((deployment) => deployment.spec);
  }

  async invoke(nameOrArn: string, payload: unknown): Promise<InvokeResult> {
    const deployment = this.deployments.get(functionNameOf(nameOrArn));
    if (!deployment) throw new FunctionNotFoundError(nameOrArn);
    const { spec } = deployment;
    // The reservation counts what runs and what waits for a sandbox here: on AWS those would all be running.
    const running = this.inFlight.get(spec.name) ?? 0;
    if (spec.reservedConcurrency !== undefined && running >= spec.reservedConcurrency) {
      throw new TooManyRequestsError(spec.name, spec.reservedConcurrency);
    }
    this.inFlight.set(spec.name, running + 1);
    try {
      return await this.run(deployment, payload);
    } finally {
      const left = (this.inFlight.get(spec.name) ?? 1) - 1;
      if (left > 0) this.inFlight.set(spec.name, left);
      else this.inFlight.delete(spec.name);
    }
  }

  private async run(deployment: Deployment, payload: unknown): Promise<InvokeResult> {
    const { spec, pool } = deployment;
    const requestId = randomUUID();
    const log = new InvocationLog(this.echoFor(spec.name));
    const events: LogEvent[] = [];
    // One event per write, stamped on arrival, as Lambda's log agent does for each console call.
    const record = (text: string): void => {
      const message = text.endsWith('\n') ? text.slice(0, -1) : text;
      if (message !== '') events.push({ timestamp: Date.now(), message });
    };
    const line = (text: string): void => {
      log.line(text);
      record(text);
    };
    line(startLine(requestId));
    const fault = this.options.chaos?.lambdaFault(spec.timeoutSeconds * 1000);
    const outcome = await pool.run({
      requestId,
      event: payload,
      fault,
      onLog: (text) => {
        log.append(text);
        record(text);
      },
    });
    if (fault && !outcome.ok) {
      const { errorType } = outcome.error;
      if (fault.kind === 'kill' && errorType === 'Runtime.ExitError') this.options.chaos?.record('lambda.killed');
      if (fault.kind === 'timeout' && errorType === 'Sandbox.Timedout') this.options.chaos?.record('lambda.timeout');
    }
    line(endLine(requestId));
    line(reportLine(requestId, { ...outcome, memorySizeMb: spec.memoryMb }));
    if (this.options.usage) {
      const billedMs = Math.max(1, Math.ceil(outcome.durationMs)) + Math.ceil(outcome.initDurationMs ?? 0);
      const logBytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.message, 'utf8'), 0);
      this.options.usage.recordLambda(spec.name, spec.memoryMb, billedMs, logBytes);
    }
    log.close();
    this.options.logWriter?.write(logGroupName(spec), deployment.logStream, events);
    return { requestId, ...resultOf(outcome), logs: log.text(), durationMs: outcome.durationMs };
  }

  async close(): Promise<void> {
    const pools = [...this.deployments.values()].map((deployment) => deployment.pool).concat([...this.retired]);
    this.deployments.clear();
    this.retired.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  private retire(pool: SandboxPool): void {
    this.retired.add(pool);
    void pool.retire();
  }

  private createPool(spec: FunctionSpec): SandboxPool {
    const codeVersion = ++this.codeVersion;
    const settings: SandboxSettings = { region: this.options.region, awsEndpoint: this.options.awsEndpoint };
    const echo = this.echoFor(spec.name);
    const onIdleLog = (text: string): void => {
      if (echo) splitLines(text).forEach(echo);
    };
    return new SandboxPool(
      () => new Sandbox(spec, settings, codeVersion, onIdleLog),
      this.options.maxConcurrencyPerFunction ?? 10,
    );
  }

  private echoFor(functionName: string): LogSink | undefined {
    const sink = this.options.logSink;
    return sink && ((line) => sink(`[${functionName}] ${line}`));
  }
}

function resultOf(outcome: SandboxOutcome): Pick<InvokeResult, 'payload' | 'error'> {
  return outcome.ok ? { payload: JSON.parse(outcome.payloadJson) as unknown } : { error: outcome.error };
}

function splitLines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}
