/** What every event source poller shares: dependencies, lifecycle, invocation, backoff. */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../shared/log.js';
import type { InvokeResult, LambdaRuntime } from '../types.js';
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
}

export interface MappingPoller {
  /** Stops polling; resolves once the in-flight invocation (if any) has settled. */
  stop(): Promise<void>;
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
    deps.log.error(`could not invoke ${functionName}`, err);
    return undefined;
  }
}

export function functionArnOf(deps: PollerDeps, functionName: string): string {
  return deps.runtime.get(functionName)?.arn ?? functionName;
}
