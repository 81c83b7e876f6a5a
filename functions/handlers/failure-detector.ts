import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { MalformedItemError, brokerIdOf, decodeHeartbeatChange, sequenceNumberOf, type HeartbeatChange } from '../adapters/dynamodb/index.js';
import { onBrokerGone, onBrokerRegistered } from '../domain/index.js';
import { loggable, logger, reportMalformedBrokerItems, withInvocationLogging } from '../logger.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';

const deps = wire(FUNCTIONS.failureDetector);

/**
 * Heartbeat table stream (the event source mapping passes only INSERT and REMOVE).
 *
 * Records are handled one at a time, in shard order: a broker's REMOVE must be
 * acted on before its next INSERT. On the first failure we stop and report that
 * record; for a stream, Lambda then retries it and everything after it, which
 * keeps per-broker order. Nothing is skipped after logging, except a record whose image
 * is not a heartbeat this code can read: retrying it could never succeed, and would hold
 * back (then, once retries run out, discard) the other brokers' records behind it. Its
 * broker is unknown, as in every listing: the reconciler elects for what it led.
 */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  withInvocationLogging(context, {}, async () => {
    // The levelling after a departure stops being started this long before the timeout (see BrokerGoneOptions).
    const levelUntil = context ? deps.clock.now() + context.getRemainingTimeInMillis() - LEVELLING_MARGIN_MS : undefined;
    for (const record of event.Records) {
      logger.appendKeys({ brokerId: brokerIdOf(record) });
      try {
        const change = readableChange(record);
        if (change) await apply(change, record, levelUntil);
      } catch (error) {
        logger.error('heartbeat change failed; it and the rest of the batch will be retried', {
          eventName: record.eventName,
          error: loggable(error),
        });
        return { batchItemFailures: [{ itemIdentifier: sequenceNumberOf(record) }] };
      }
    }
    return { batchItemFailures: [] };
  });

/** Time kept for the levelling under way and the return once no more is started: a quarter of the 60 s timeout. */
const LEVELLING_MARGIN_MS = 15_000;

/** The record's change, or undefined (reported) when its image is not a heartbeat this code can read. */
function readableChange(record: DynamoDBRecord): HeartbeatChange | undefined {
  try {
    return decodeHeartbeatChange(record);
  } catch (error) {
    if (!(error instanceof MalformedItemError)) throw error;
    reportMalformedBrokerItems('brokers (stream)', [{ key: brokerIdOf(record) ?? 'unknown', reason: `${record.eventName ?? '?'}: ${error.message}` }]);
    return undefined;
  }
}

async function apply(change: HeartbeatChange, record: DynamoDBRecord, levelUntil: number | undefined): Promise<void> {
  if (change.kind === 'renewed') return;
  const { heartbeat } = change;
  logger.info('heartbeat stream record', { eventName: record.eventName, incarnation: heartbeat.incarnation });
  const result =
    change.kind === 'registered'
      ? await onBrokerRegistered(deps, heartbeat)
      : // Expiry is judged from the old image's deadline, not from userIdentity:
        // LocalStack's TTL sweep and our own sweep delete without one.
        await onBrokerGone(deps, heartbeat, heartbeat.deadlineMs < deps.clock.now() ? 'EXPIRED' : 'DEREGISTERED', { levelUntil });
  logger.info('heartbeat change applied', { result });
}
