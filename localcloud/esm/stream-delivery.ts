/**
 * Delivering one stream batch with Lambda's error handling for streams:
 *  - a function error retries the batch (exponential backoff) until
 *    MaximumRetryAttempts is exhausted or a record is older than
 *    MaximumRecordAgeInSeconds; then the batch goes to the on-failure destination
 *    and the shard moves on (-1 = retry until the record expires, i.e. forever here);
 *  - BisectBatchOnFunctionError splits a failed batch in halves, delivered in order,
 *    each with its own retry budget (AWS: splitting does not consume retries);
 *  - a partial batch response checkpoints the records before the lowest reported
 *    sequence number and retries from it.
 * Resolves when the batch is settled (delivered or discarded) or the poller stops.
 */
import { delay } from '../shared/delay.js';
import type { EventSourceMappingSpec } from '../types.js';
import { classifyBatchResult } from './batch-response.js';
import type { FailureCondition } from './on-failure.js';
import { functionArnOf, invokeFunction, retryDelayMs, type PollerDeps } from './poller.js';
import type { PendingStreamRecord } from './stream-records.js';

export interface StreamDelivery {
  spec: EventSourceMappingSpec;
  deps: PollerDeps;
  shardId: string;
  streamArn: string;
  signal: AbortSignal;
}

function tooOld(records: readonly PendingStreamRecord[], maxAgeSeconds: number): boolean {
  if (maxAgeSeconds < 0) return false;
  const oldest = Math.min(...records.map((r) => r.createdAtMs));
  return Date.now() - oldest > maxAgeSeconds * 1000;
}

async function discard(
  delivery: StreamDelivery,
  records: readonly PendingStreamRecord[],
  condition: FailureCondition,
  invokeCount: number,
): Promise<void> {
  await delivery.deps.onFailure.discard({
    destinationArn: delivery.spec.onFailureDestinationArn,
    condition,
    functionArn: functionArnOf(delivery.deps, delivery.spec.functionName),
    approximateInvokeCount: invokeCount,
    shardId: delivery.shardId,
    streamArn: delivery.streamArn,
    records,
  });
}

export async function deliverStreamBatch(
  records: readonly PendingStreamRecord[],
  delivery: StreamDelivery,
): Promise<void> {
  const { spec, deps, signal } = delivery;
  let pending = records;
  let attempts = 0;
  // Lambda's stream delivery is at least once and may lag: a batch can come late (the shard waits
  // behind it, in order) or, when a checkpoint is lost, again after it succeeded.
  const fault = deps.chaos?.streamFault();
  if (fault && fault.lateMs > 0) await delay(fault.lateMs, signal);
  while (pending.length > 0 && !signal.aborted) {
    if (tooOld(pending, spec.maximumRecordAgeInSeconds)) {
      await discard(delivery, pending, 'RecordAgeExceeded', attempts);
      return;
    }
    const result = await invokeFunction(deps, spec.functionName, { Records: pending.map((r) => r.event) });
    if (result === undefined) {
      await delay(retryDelayMs(attempts + 1, deps.pollIntervalMs), signal);
      continue;
    }
    attempts += 1;
    const outcome = classifyBatchResult(
      result,
      spec.reportBatchItemFailures,
      pending.map((r) => r.sequenceNumber),
    );
    if (outcome.kind === 'success') {
      if (fault?.duplicate && !signal.aborted) {
        deps.chaos?.record('stream.duplicate');
        await invokeFunction(deps, spec.functionName, { Records: pending.map((r) => r.event) });
      }
      return;
    }
    if (outcome.kind === 'partial') {
      const failed = new Set(outcome.failedIds);
      pending = pending.slice(pending.findIndex((r) => failed.has(r.sequenceNumber)));
    } else {
      deps.log.debug(`${spec.functionName} failed on ${pending.length} records (attempt ${attempts}): ${outcome.reason}`);
      if (spec.bisectBatchOnFunctionError && pending.length > 1) {
        const middle = Math.ceil(pending.length / 2);
        await deliverStreamBatch(pending.slice(0, middle), delivery);
        await deliverStreamBatch(pending.slice(middle), delivery);
        return;
      }
    }
    if (spec.maximumRetryAttempts >= 0 && attempts > spec.maximumRetryAttempts) {
      await discard(delivery, pending, 'RetryAttemptsExhausted', attempts);
      return;
    }
    await delay(retryDelayMs(attempts, deps.pollIntervalMs), signal);
  }
}
