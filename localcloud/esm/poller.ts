/** What every event source poller shares: dependencies, lifecycle, invocation, backoff. */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { delay } from '../shared/delay.js';
import type { Logger } from '../shared/log.js';
import type { ChaosFaults } from '../chaos.js';
import { TooManyRequestsError, type EventSourceMappingSpec, type InvokeResult, type LambdaRuntime } from '../types.js';
import { collectBatch, type BatchSource } from './batching.js';
import type { OnFailureDestination } from './on-failure.js';

export interface PollerDeps {
  runtime: LambdaRuntime;
  streams: DynamoDBStreamsClient;
  sqs: SQSClient;
  region: string;
  /** Wait between polls of an idle source. */
  pollIntervalMs: number;
  /**
   * Last settled sequence number per `${mappingUuid}|${shardId}`. Outlives pollers, so a
   * mapping updated by a redeploy (poller restarted) resumes where it stopped.
   */
  checkpoints: Map<string, string>;
  onFailure: OnFailureDestination;
  log: Logger;
  /** The fault mode (chaos.ts): stream batches may be delivered twice, or late. */
  chaos?: ChaosFaults;
}

export interface MappingPoller {
  /** Stops polling; resolves once the in-flight invocation (if any) has settled. */
  stop(): Promise<void>;
}

/**
 * The lifecycle of a mapping's poller: `run` starts once the mapping's previous poller
 * has stopped (no overlap on redeploy), and goes on until stop() aborts `signal`.
 */
export abstract class MappingLoop implements MappingPoller {
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;

  constructor(mappingUuid: string, log: Logger, previousStopped: Promise<void>) {
    // A then-callback runs in a later microtask: the subclass is fully constructed by then.
    this.loop = previousStopped
      .then(() => this.run())
      .catch((err: unknown) => log.error(`mapping ${mappingUuid} stopped on an unexpected error`, err));
  }

  protected get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Polls until `signal` aborts; a rejection is logged, and stops this poller only. */
  protected abstract run(): Promise<void>;

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}

/**
 * Lambda's loop over one ordered source (a shard, a queue): collect a batch, deliver it,
 * and collect the next only once it has settled; wait a poll interval while the source
 * is idle. Returns when `signal` aborts, or once the source is exhausted and drained.
 * A batch collected when `signal` aborts is not delivered: SQS messages reappear after
 * their visibility timeout, a shard resumes from its checkpoint.
 */
export async function pollBatches<T>(
  source: BatchSource<T>,
  spec: Pick<EventSourceMappingSpec, 'batchSize' | 'maximumBatchingWindowInSeconds'>,
  deps: Pick<PollerDeps, 'pollIntervalMs'>,
  signal: AbortSignal,
  deliver: (batch: T[]) => Promise<void>,
): Promise<void> {
  const batching = {
    batchSize: spec.batchSize,
    windowMs: spec.maximumBatchingWindowInSeconds * 1000,
    pollIntervalMs: deps.pollIntervalMs,
    signal,
  };
  while (!signal.aborted) {
    const { batch, idle } = await collectBatch(source, batching);
    if (batch.length > 0 && !signal.aborted) await deliver(batch);
    if (source.exhausted && source.buffer.length === 0) return;
    if (batch.length === 0 && idle) await delay(deps.pollIntervalMs, signal);
  }
}

/** Longest wait between retries of a failing batch, so an endlessly failing record costs ~1 invoke/s. */
const MAX_RETRY_DELAY_MS = 1000;

/** Exponential backoff from the poll interval: 1×, 2×, 4×… capped. */
export function retryDelayMs(attempt: number, pollIntervalMs: number): number {
  const base = Math.max(pollIntervalMs, 10);
  return Math.min(base * 2 ** Math.max(attempt - 1, 0), MAX_RETRY_DELAY_MS);
}

/**
 * Invokes the mapping's function. `undefined` means the invocation never reached
 * the function (unknown function, runtime failure): like a Lambda throttle or service
 * error, it does not count as a retry attempt.
 */
export async function invokeFunction(
  deps: PollerDeps,
  functionName: string,
  event: unknown,
): Promise<InvokeResult | undefined> {
  try {
    return await deps.runtime.invoke(functionName, event);
  } catch (err) {
    // A throttle (reserved concurrency in use) is routine: retried, as Lambda's pollers do.
    if (err instanceof TooManyRequestsError) deps.log.debug(`${functionName} throttled, batch retried: ${err.message}`);
    else deps.log.error(`could not invoke ${functionName}`, err);
    return undefined;
  }
}

export function functionArnOf(deps: PollerDeps, functionName: string): string {
  return deps.runtime.get(functionName)?.arn ?? functionName;
}
