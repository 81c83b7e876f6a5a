/**
 * Messages between the host (sandbox.ts) and one Lambda worker (worker.mjs).
 * The worker is plain JavaScript, so this file is the single written-down contract:
 * keep worker.mjs in step with it.
 */
import type { InvokeError } from '../types.js';

/** Fixed for the worker's lifetime: passed as `workerData`. */
export interface WorkerBootData {
  codeDir: string;
  handler: string;
  /** Bumped on every register(); appended to the module URL so a redeploy never hits a cached module. */
  codeVersion: number;
  context: StaticContext;
}

/** The part of the Lambda context object that does not change between invocations. */
export interface StaticContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
}

export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  event: unknown;
  /** Epoch milliseconds; the worker derives getRemainingTimeInMillis() from it. */
  deadline: number;
}

export interface LogMessage {
  type: 'log';
  text: string;
}

interface DoneBase {
  type: 'done';
  requestId: string;
  /** Handler time only (module import excluded). */
  durationMs: number;
  /** Set on the first invocation of a worker: the module import (cold start). */
  initDurationMs?: number;
  /** Heap in use by the worker's isolate, for the REPORT line. */
  memoryUsedMb: number;
}

export interface DoneOk extends DoneBase {
  ok: true;
  /** JSON text of the handler result (`null` for undefined). */
  payloadJson: string;
}

export interface DoneFailed extends DoneBase {
  ok: false;
  error: InvokeError;
  /** The module could not be loaded: the worker is unusable and must be replaced. */
  initFailed: boolean;
}

/** The module import (init) is over, successful or not. */
export interface InitializedMessage {
  type: 'initialized';
}

export type WorkerMessage = LogMessage | InitializedMessage | DoneOk | DoneFailed;
