/**
 * The embedded cloud's fault mode, off unless a cloud is started with `chaos` and then
 * switched on: faults that AWS itself produces, drawn from a seeded generator and counted
 * per kind.
 *  - DynamoDB (at the edge): throttling (400 ProvisionedThroughputExceededException or
 *    ThrottlingException), 500 InternalServerError before the request reaches the table
 *    and, for writes, after it was applied (the SDK retries it: the write happened once
 *    and is sent again), TransactionConflict (TransactWriteItems: TransactionCanceledException
 *    with a TransactionConflict reason; single writes: TransactionConflictException), latency.
 *  - Lambda (in the runtime): the sandbox dies mid-invocation (Runtime.ExitError; what the
 *    handler wrote stays written) or the invocation times out early (Sandbox.Timedout).
 *  - Event source mappings: a stream batch delivered twice (a lost checkpoint), or late.
 *
 * Which request gets which fault depends on the seed and on the order requests arrive in,
 * which the host's timing decides: a seed fixes the fault mix, not the exact schedule.
 */

export interface ChaosRates {
  /** Per DynamoDB request: answered 400 ProvisionedThroughputExceededException / ThrottlingException. */
  throttle: number;
  /** Per DynamoDB request: answered 500 InternalServerError without reaching the table. */
  serverError: number;
  /** Per DynamoDB write: applied, then answered 500 InternalServerError. */
  serverErrorAfterWrite: number;
  /** Per transaction or single write: refused with a TransactionConflict. */
  transactionConflict: number;
  /** Per DynamoDB request: delayed up to latencyMaxMs before it is forwarded. */
  latency: number;
  latencyMaxMs: number;
  /** Per Lambda invocation: the sandbox dies after a random part of its run. */
  lambdaKill: number;
  lambdaKillMaxMs: number;
  /** Per Lambda invocation: timed out after a random time up to lambdaTimeoutMaxMs (or its own timeout, if shorter). */
  lambdaTimeout: number;
  lambdaTimeoutMaxMs: number;
  /** Per stream batch delivered successfully: delivered once more (counted when it is). */
  streamDuplicate: number;
  /** Per stream batch: held back up to streamLateMaxMs before it is delivered. */
  streamLate: number;
  streamLateMaxMs: number;
}

export const DEFAULT_CHAOS_RATES: ChaosRates = {
  throttle: 0.03,
  serverError: 0.02,
  serverErrorAfterWrite: 0.02,
  transactionConflict: 0.03,
  latency: 0.05,
  latencyMaxMs: 200,
  lambdaKill: 0.02,
  lambdaKillMaxMs: 300,
  lambdaTimeout: 0.01,
  lambdaTimeoutMaxMs: 1500,
  streamDuplicate: 0.1,
  streamLate: 0.1,
  streamLateMaxMs: 2000,
};

export const FAULT_KINDS = [
  'dynamodb.throttle',
  'dynamodb.internal-error',
  'dynamodb.internal-error-after-write',
  'dynamodb.transaction-conflict',
  'dynamodb.latency',
  'lambda.killed',
  'lambda.timeout',
  'stream.duplicate',
  'stream.late',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  seed: number;
  rates?: Partial<ChaosRates>;
  /** Inject from the start (default false: call enable() once the stack is deployed). */
  enabled?: boolean;
}

export class InvalidChaosOptionsError extends Error {
  override readonly name = 'InvalidChaosOptionsError';
}

/** What the edge does with one DynamoDB request. */
export type DynamoDbFault =
  | { kind: 'throttle'; errorType: 'ProvisionedThroughputExceededException' | 'ThrottlingException' }
  | { kind: 'internal-error' }
  | { kind: 'internal-error-after-write' }
  /** `pick` in [0, 1) chooses which item of a transaction is the conflicting one. */
  | { kind: 'transaction-conflict'; pick: number }
  | { kind: 'latency'; delayMs: number };

/** What the runtime does to one invocation. */
export type LambdaFault = { kind: 'kill'; afterMs: number } | { kind: 'timeout'; afterMs: number };

/** What the stream poller does with one batch. */
export interface StreamFault {
  lateMs: number;
  duplicate: boolean;
}

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** mulberry32: small, fast, and enough to make a fault mix reproducible from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ChaosFaults {
  readonly rates: ChaosRates;
  readonly seed: number;
  private readonly random: () => number;
  private enabled: boolean;
  private readonly counts = new Map<FaultKind, number>(FAULT_KINDS.map((kind) => [kind, 0]));

  constructor(options: ChaosOptions) {
    if (!Number.isInteger(options.seed)) throw new InvalidChaosOptionsError(`chaos seed must be an integer, got ${options.seed}`);
    this.rates = { ...DEFAULT_CHAOS_RATES, ...options.rates };
    for (const [name, value] of Object.entries(this.rates)) {
      const isDuration = name.endsWith('Ms');
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!isDuration && value > 1)) {
        throw new InvalidChaosOptionsError(`chaos rate ${name} must be ${isDuration ? 'a duration >= 0' : 'a probability in [0, 1]'}, got ${String(value)}`);
      }
    }
    this.seed = options.seed;
    this.random = prng(options.seed);
    this.enabled = options.enabled ?? false;
  }

  get active(): boolean {
    return this.enabled;
  }

  enable(): void {
    this.enabled = true;
  }

  /** Ends injection; faults already decided (a delay under way, a sandbox due to die) still happen. */
  disable(): void {
    this.enabled = false;
  }

  /** Injected faults so far, per kind (every kind listed, 0 included). */
  faultCounts(): Record<FaultKind, number> {
    return Object.fromEntries(this.counts) as Record<FaultKind, number>;
  }

  /** `operation`: the X-Amz-Target's action, e.g. `UpdateItem`. */
  dynamodbFault(operation: string): DynamoDbFault | undefined {
    if (!this.enabled) return undefined;
    const r = this.rates;
    if (this.draw(r.throttle)) {
      this.count('dynamodb.throttle');
      return { kind: 'throttle', errorType: this.random() < 0.5 ? 'ProvisionedThroughputExceededException' : 'ThrottlingException' };
    }
    if (this.draw(r.serverError)) {
      this.count('dynamodb.internal-error');
      return { kind: 'internal-error' };
    }
    if (WRITE_OPERATIONS.has(operation) && this.draw(r.serverErrorAfterWrite)) {
      this.count('dynamodb.internal-error-after-write');
      return { kind: 'internal-error-after-write' };
    }
    if ((operation === 'TransactWriteItems' || SINGLE_WRITES.has(operation)) && this.draw(r.transactionConflict)) {
      this.count('dynamodb.transaction-conflict');
      return { kind: 'transaction-conflict', pick: this.random() };
    }
    if (this.draw(r.latency)) {
      this.count('dynamodb.latency');
      return { kind: 'latency', delayMs: Math.floor(this.random() * r.latencyMaxMs) };
    }
    return undefined;
  }

  lambdaFault(timeoutMs: number): LambdaFault | undefined {
    if (!this.enabled) return undefined;
    const r = this.rates;
    // Counted by the runtime once it happened: a handler may finish before its sandbox was due to die.
    if (this.draw(r.lambdaKill)) {
      return { kind: 'kill', afterMs: Math.floor(this.random() * r.lambdaKillMaxMs) };
    }
    if (this.draw(r.lambdaTimeout)) {
      return { kind: 'timeout', afterMs: Math.min(timeoutMs, 1 + Math.floor(this.random() * r.lambdaTimeoutMaxMs)) };
    }
    return undefined;
  }

  streamFault(): StreamFault | undefined {
    if (!this.enabled) return undefined;
    const r = this.rates;
    const late = this.draw(r.streamLate);
    const duplicate = this.draw(r.streamDuplicate);
    if (!late && !duplicate) return undefined;
    if (late) this.record('stream.late');
    return { lateMs: late ? Math.floor(this.random() * r.streamLateMaxMs) : 0, duplicate };
  }

  private draw(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  /** Counts a fault whose injection the caller carried out (a duplicate delivery happens only after a success). */
  record(kind: FaultKind): void {
    this.count(kind);
  }

  private count(kind: FaultKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }
}
