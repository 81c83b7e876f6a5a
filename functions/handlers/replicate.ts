import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { readLogInsert, sequenceNumberOf, type LogStreamRecord } from '../adapters/dynamodb/index.js';
import { replicate } from '../domain/index.js';
import { StoredObjectMissingError } from '../domain/errors.js';
import { loggable, logger, withInvocationLogging } from '../logger.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';

const deps = wire(FUNCTIONS.replicate);

/** A failure point: the batch position (to find the earliest) and the sequence number Lambda resumes from. */
interface Failure {
  position: number;
  sequenceNumber: string;
}

/**
 * Log table stream (the event source mapping passes only INSERTs of leader copies).
 *
 * Partitions are independent, so each partition's run of records is replicated
 * on its own; a failing partition does not hold back the others. For a stream,
 * Lambda resumes from the lowest reported sequence number, so only the earliest
 * failure (the first record of the earliest failing partition, or an
 * undecodable record) is reported; records after it are redelivered, which the
 * domain's LEO check makes harmless.
 */
export const handler = (event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> =>
  withInvocationLogging(context, {}, async () => {
    const { runs, decodeFailure } = await decodePartitionRuns(event);
    const failures = await Promise.all(runs.map(replicateRun));
    const earliest = [...failures, decodeFailure]
      .filter((failure): failure is Failure => failure !== undefined)
      .sort((a, b) => a.position - b.position)[0];
    return { batchItemFailures: earliest ? [{ itemIdentifier: earliest.sequenceNumber }] : [] };
  });

interface PartitionRun {
  position: number;
  records: LogStreamRecord[];
}

/**
 * Groups the batch by partition in shard order, up to the first record that cannot be
 * decoded. Diskless items are read from their objects, all at once. An item whose object
 * is gone was never committed (the sweep deletes only objects no committed batch points
 * into): there is nothing of it to copy, so it is passed over.
 */
async function decodePartitionRuns(event: DynamoDBStreamEvent): Promise<{ runs: PartitionRun[]; decodeFailure?: Failure }> {
  const runs = new Map<string, PartitionRun>();
  const reads = await Promise.allSettled(event.Records.map((raw) => readLogInsert(raw, deps.objects)));
  for (const [position, raw] of event.Records.entries()) {
    const read = reads[position];
    if (read.status === 'rejected' && read.reason instanceof StoredObjectMissingError) {
      logger.warn('log stream record of a batch whose object is gone: an uncommitted batch, passed over', { error: loggable(read.reason) });
      continue;
    }
    if (read.status === 'rejected') {
      logger.error('undecodable log stream record', { error: loggable(read.reason) });
      return { runs: [...runs.values()], decodeFailure: { position, sequenceNumber: sequenceNumberOf(raw) } };
    }
    const decoded: LogStreamRecord = read.value;
    const [first] = decoded.records;
    if (!first) continue;
    const key = `${first.topic}-${first.partition}`;
    const run = runs.get(key) ?? { position, records: [] };
    run.records.push(decoded);
    runs.set(key, run);
  }
  return { runs: [...runs.values()] };
}

async function replicateRun(run: PartitionRun): Promise<Failure | undefined> {
  const first = run.records[0];
  const { topic, partition, leaderEpoch } = first.records[0];
  const records = run.records.flatMap((r) => r.records);
  try {
    const result = await replicate(deps, records);
    logger.info('replicated', { topic, partition, leaderEpoch, count: records.length, result });
    return undefined;
  } catch (error) {
    logger.error('replication failed; the partition will be redelivered from its first record', {
      topic,
      partition,
      leaderEpoch,
      error: loggable(error),
    });
    return { position: run.position, sequenceNumber: first.sequenceNumber };
  }
}
