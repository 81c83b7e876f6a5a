/**
 * Which failures a client retries, and how: Kafka's classification of retriable errors,
 * exponential backoff with jitter (retry.backoff.ms / retry.backoff.max.ms) and one overall
 * deadline per call (delivery.timeout.ms for a produce, default.api.timeout.ms for a fetch).
 */
import { isLeadershipMovedError, isRetriableError } from '../protocol/errors.js';
import { RemoteFunctionError } from './lambda-client.js';

/**
 * Faults of the Lambda service or runtime reported as a FunctionError, and transient faults
 * of the function's own AWS calls that escaped its SDK retries. None of them is an answer
 * of the domain; a retry may succeed.
 */
export const RETRIABLE_FUNCTION_FAULTS: ReadonlySet<string> = new Set([
  'Sandbox.Timedout',
  'Runtime.ExitError',
  'Runtime.Unknown',
  'TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
]);

/** Errors of the Lambda API itself (the SDK names them) that a retry may clear. */
const RETRIABLE_API_ERRORS: ReadonlySet<string> = new Set([
  'TooManyRequestsException',
  'ServiceException',
  'ResourceNotReadyException',
  'ResourceConflictException',
  'EC2ThrottledException',
  'EFSIOException',
  'TimeoutError',
  'RequestTimeout',
  'ThrottlingException',
]);

/** Network faults, by Node's error code. */
const RETRIABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * True when retrying may succeed: a function error the catalogue (protocol/errors.ts) marks
 * retriable (refresh metadata first), or a fault of Lambda or the network. Everything else
 * (ValidationError, UnknownTopicError, TopicExistsError, OffsetOutOfRangeError, an unknown
 * function, bad credentials, an unrecognised errorType) is final: Kafka too treats an unknown
 * server error as fatal.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof RemoteFunctionError) {
    return isRetriableError(error.errorType) || RETRIABLE_FUNCTION_FAULTS.has(error.errorType);
  }
  if (!(error instanceof Error)) return false;
  const fault = error as Error & { code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (fault.$retryable) return true;
  if (RETRIABLE_API_ERRORS.has(fault.name)) return true;
  const status = fault.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (fault.code && RETRIABLE_NETWORK_CODES.has(fault.code)) return true;
  // fetch-style wrappers keep the socket error as the cause.
  return fault.cause instanceof Error && fault.cause !== error && isRetriable(fault.cause);
}

/** The overall deadline passed while the call kept failing retriably (Kafka's TimeoutException). */
export class ClientTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    super(`${operation}: gave up after ${timeoutMs} ms and ${attempts} attempt(s)${last}`, { cause: lastError });
    this.name = 'ClientTimeoutError';
  }
}

/** A rule of the client itself was broken (bad arguments, a protocol answer it cannot use). */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface RetryOptions {
  /** Kafka's retry.backoff.ms: the first backoff (default 100). */
  retryBackoffMs?: number;
  /** Kafka's retry.backoff.max.ms: the backoff's ceiling (default 1000). */
  retryBackoffMaxMs?: number;
  /** Time source and sleep, for tests (defaults: Date.now and setTimeout). */
  clock?: Clock;
  /** Uniform [0, 1) for the jitter (default Math.random). */
  random?: () => number;
  /** Told of each retriable failure before the backoff (logging, metrics). */
  onRetry?: (info: { operation: string; attempt: number; error: unknown; backoffMs: number }) => void;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Kafka's exponential backoff: base x 2^(attempt-1), capped, with +-20 % jitter. */
export function backoffMs(attempt: number, options: RetryOptions = {}): number {
  const base = options.retryBackoffMs ?? 100;
  const max = options.retryBackoffMaxMs ?? 1000;
  const exponential = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jitter = 1 + 0.2 * (2 * (options.random ?? Math.random)() - 1);
  return Math.max(0, Math.round(Math.min(max, exponential * jitter)));
}

/**
 * Errors that say only "the leadership you named has moved on" (the catalogue's
 * leadershipMoved): the cluster is fine, the client's metadata is not. Like Kafka's clients
 * on NOT_LEADER (KIP-951 sends the new leader along), the first retry after one refreshes
 * and goes again at once; only a repeat backs off.
 */
export const leadershipMoved = (error: unknown): error is RemoteFunctionError =>
  error instanceof RemoteFunctionError && isLeadershipMovedError(error.errorType);

/**
 * Runs `attempt` until it succeeds, fails with a non-retriable error (rethrown as it is) or
 * the deadline passes (ClientTimeoutError naming the last error). `onRetriable` runs before
 * each backoff, e.g. to drop cached metadata. An attempt in flight when the deadline passes
 * is not abandoned: it ends within the function's own timeout.
 */
export async function withRetries<T>(
  operation: string,
  timeoutMs: number,
  options: RetryOptions,
  attempt: (attemptNumber: number) => Promise<T>,
  onRetriable?: (error: unknown) => void,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + timeoutMs;
  for (let attempts = 1; ; attempts += 1) {
    try {
      return await attempt(attempts);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      onRetriable?.(error);
      const remaining = deadline - clock.now();
      const wait = attempts === 1 && leadershipMoved(error) ? 0 : backoffMs(attempts, options);
      if (remaining <= wait) throw new ClientTimeoutError(operation, timeoutMs, attempts, error);
      options.onRetry?.({ operation, attempt: attempts, error, backoffMs: wait });
      // No timer for a retry that goes at once: on a busy event loop even a 0 ms timer waits
      // behind every pending I/O callback (1-19 ms under load while clients move to a new leader).
      if (wait > 0) await clock.sleep(wait);
    }
  }
}
