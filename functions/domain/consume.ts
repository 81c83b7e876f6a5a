/**
 * Consume: read the leader's copy of the log, below the high watermark only, so
 * a consumer never sees a record that a failover could still take back.
 */
import type {
  ConsumedRecord,
  ConsumeResponse,
  FetchPartitionError,
  FetchResponse,
  OffsetsForLeaderEpochResponse,
} from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { DomainError, OffsetOutOfRangeError, UnknownLeaderEpochError } from './errors.js';
import { logEndOffsetOf } from './high-watermark.js';
import { FETCH_READS_IN_FLIGHT, FETCH_WAIT_CHECK_MS } from './limits.js';
import { leaderOf, requireLeader, requirePartition, requireTopic, unknownPartition } from './lookup.js';
import type { LogRecord, PartitionMetadata } from './model.js';
import { isOnline, type OnlinePartition } from './partitions.js';
import {
  isFetchRequest,
  isOffsetsForLeaderEpochRequest,
  parseConsumeRequest,
  parseFetchRequest,
  parseOffsetsForLeaderEpochRequest,
  type ConsumeRequest,
  type FetchRequest,
} from './requests.js';
import { partitionName } from './views.js';

const toConsumedRecord = ({ offset, leaderEpoch, key, value, appendedAt }: LogRecord): ConsumedRecord => ({
  offset,
  leaderEpoch,
  key,
  value,
  appendedAt,
});

/** What max.partition.fetch.bytes counts of a record: its key and value as JSON. */
const keyAndValueBytes = (record: LogRecord): number =>
  Buffer.byteLength(JSON.stringify(record.value)) + (record.key === null ? 0 : Buffer.byteLength(JSON.stringify(record.key)));

/** What fetch.max.bytes counts of a record: all of it, as the answer carries it. */
const answerBytes = (record: ConsumedRecord): number => Buffer.byteLength(JSON.stringify(record));

/**
 * How many of the records fit `maxBytes` as `bytesOf` counts them. With `atLeastOne`, as in
 * Kafka, the first always fits, so a large record never blocks a consumer.
 */
function recordsWithin<T>(records: readonly T[], maxBytes: number, bytesOf: (record: T) => number, atLeastOne: boolean): number {
  let bytes = 0;
  for (const [i, record] of records.entries()) {
    bytes += bytesOf(record);
    if (bytes > maxBytes && (i > 0 || !atLeastOne)) return i;
  }
  return records.length;
}

export async function consume(deps: Deps, input: unknown): Promise<ConsumeResponse> {
  const request = parseConsumeRequest(input);
  // The topic too: a topic whose creation has not finished has partitions but is not there yet.
  const [, partition] = await Promise.all([requireTopic(deps, request.topic), requirePartition(deps, request.topic, request.partition)]);
  return readFromLeader(deps, partition, request);
}

/**
 * One partition's answer, from its metadata as read: refused unless it has a leader and the
 * request named its current epoch (or none), else its records from `request.offset` below the
 * high watermark, at most maxRecords and (past the first) maxBytes of them.
 */
async function readFromLeader(deps: Deps, stored: PartitionMetadata, request: ConsumeRequest): Promise<ConsumeResponse> {
  const partition = leaderOf(stored, request.currentLeaderEpoch);
  const { highWatermark } = partition;
  if (request.offset > highWatermark) {
    throw new OffsetOutOfRangeError(
      `offset ${request.offset} is beyond the high watermark ${highWatermark} of ${partitionName(partition)}`,
    );
  }
  const end = Math.min(highWatermark, request.offset + request.maxRecords);
  const read = await deps.log.read(partition.topic, partition.partition, partition.leader, request.offset, end);
  const records = read.slice(0, recordsWithin(read, request.maxBytes, keyAndValueBytes, true));
  return {
    topic: partition.topic,
    partition: partition.partition,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    highWatermark,
    records: records.map(toConsumedRecord),
    // A log has no holes, so this is the offset after the last record; after an unclean election the leader
    // may not have reached the high watermark yet, and the consumer must not skip what it writes there next.
    nextOffset: request.offset + records.length,
  };
}

export const isFetchPartitionError = (answer: ConsumeResponse | FetchPartitionError): answer is FetchPartitionError =>
  'errorType' in answer;

/**
 * Kafka's Fetch: many partitions' consumes in one call, each answered or refused on its own
 * exactly as a consume of it alone would be (leader, KIP-320 epoch, offset range, limits),
 * and Kafka's long poll: with `maxWaitMs`, held until the answer carries `minBytes` of
 * records or refuses a partition, or the wait is up.
 *
 * What it costs when there is nothing to read is what makes an idle consumer cheap: each
 * look is one eventually consistent read of the partitions (`peekPartitions`). A partition
 * whose request names the epoch seen there, whose high watermark seen there is the offset
 * asked, is answered from that read alone, with no records: the answer only repeats the
 * request back (its epoch, its offset, and the leader of that epoch, of which there is one),
 * so a stale read can only delay a record, never show one or fence anyone. Every other
 * partition is read strongly consistent and answered as before: refused or served below
 * its high watermark, fenced by its own epoch as read (invariant 13). A request that fails
 * validation reads nothing; a fault (not a domain refusal) fails the whole fetch.
 */
export async function fetch(deps: Deps, input: unknown): Promise<FetchResponse> {
  const request = parseFetchRequest(input);
  const deadline = deps.clock.now() + request.maxWaitMs;
  let answer: FetchResponse | undefined;
  let lastSeen: ReadonlyArray<PartitionMetadata | null> = [];
  for (;;) {
    const seen = await deps.metadata.peekPartitions(request.partitions);
    // Only what moved since the last look can change the answer.
    if (answer === undefined || seen.some((partition, i) => !samePartitionView(partition, lastSeen[i]))) {
      answer = await answerFrom(deps, request, seen);
    }
    lastSeen = seen;
    const left = deadline - deps.clock.now();
    if (left <= 0 || worthAnswering(answer, request.minBytes)) return answer;
    await deps.sleep(Math.min(FETCH_WAIT_CHECK_MS, left));
  }
}

/** Enough records for the caller, or a refusal it should hear of at once (Kafka answers errors without waiting). */
const worthAnswering = (answer: FetchResponse, minBytes: number): boolean => {
  let bytes = 0;
  for (const partition of answer.partitions) {
    if (isFetchPartitionError(partition)) return true;
    for (const record of partition.records) bytes += answerBytes(record);
  }
  return bytes >= minBytes;
};

const samePartitionView = (a: PartitionMetadata | null, b: PartitionMetadata | null | undefined): boolean =>
  a === null || b === null || b === undefined
    ? a === b
    : a.version === b.version && a.highWatermark === b.highWatermark && a.leaderEpoch === b.leaderEpoch && a.leader === b.leader;

/** Nothing to read at this partition as `seen` shows it, and nothing to refuse to the epoch the request names. */
const nothingNew = (asked: ConsumeRequest, seen: PartitionMetadata | null): seen is OnlinePartition =>
  seen !== null && isOnline(seen) && asked.currentLeaderEpoch === seen.leaderEpoch && seen.highWatermark === asked.offset;

/**
 * One answer: the partitions with nothing new as `seen` shows them answered from it, the rest
 * from their strongly consistent reads (in bulk, item by item: not a snapshot, each is fenced
 * by its own epoch, as each is on its own leader in Kafka). Logs are read a few partitions at
 * a time, in the order asked, until `maxBytes` is spent; the first records of the answer
 * always fit, so a fetch makes progress.
 */
async function answerFrom(deps: Deps, request: FetchRequest, seen: ReadonlyArray<PartitionMetadata | null>): Promise<FetchResponse> {
  const topics = [...new Set(request.partitions.map((asked) => asked.topic))];
  // A topic whose creation has not finished has partitions but is not there yet: its partitions answer as
  // unknown. Once created a topic stays so, and its configuration is cached (read once per container).
  const configs = await Promise.all(topics.map((topic) => deps.metadata.getTopic(topic)));
  const created = new Set(topics.filter((_, i) => configs[i] !== null));
  // Each partition's view when it has nothing new, so its answer comes from that view.
  const idle = request.partitions.map((asked, i): OnlinePartition | null => {
    const view = seen[i];
    return created.has(asked.topic) && nothingNew(asked, view) ? view : null;
  });
  const toRead = request.partitions.filter((asked, i) => idle[i] === null && created.has(asked.topic));
  const read = toRead.length > 0 ? await deps.metadata.getPartitions(toRead) : [];
  const stored = new Map(toRead.map((asked, i) => [asked, read[i]]));
  const answers: Array<ConsumeResponse | FetchPartitionError> = [];
  let bytesLeft = request.maxBytes;
  // Until some partition's records are in the answer, the next one's first record always fits.
  let anyRecords = false;
  for (let start = 0; start < request.partitions.length; start += FETCH_READS_IN_FLIGHT) {
    const wave = request.partitions.slice(start, start + FETCH_READS_IN_FLIGHT).map((asked, i) => {
      const view = idle[start + i];
      if (view) return Promise.resolve(emptyAnswer(asked, view));
      const partition = stored.get(asked) ?? null;
      // A spent budget reads nothing more, but still answers (epoch, HW) or refuses each partition.
      const limited = bytesLeft > 0 ? asked : { ...asked, maxRecords: 0 };
      return refusalAsAnswer(asked, () =>
        partition ? readFromLeader(deps, partition, limited) : unknownPartition(deps, asked.topic, asked.partition),
      );
    });
    for (const [i, answer] of (await Promise.all(wave)).entries()) {
      if (!isFetchPartitionError(answer)) {
        const sizes = answer.records.map(answerBytes);
        const fitting: number = recordsWithin(sizes, bytesLeft, (size: number) => size, !anyRecords);
        answer.records = answer.records.slice(0, fitting);
        answer.nextOffset = request.partitions[start + i].offset + fitting;
        bytesLeft -= sizes.slice(0, fitting).reduce((sum, size) => sum + size, 0);
        anyRecords ||= fitting > 0;
      }
      answers.push(answer);
    }
  }
  return { partitions: answers };
}

/** No records: the request's own offset, and its epoch's leader (one per epoch). */
const emptyAnswer = (asked: ConsumeRequest, seen: OnlinePartition): ConsumeResponse => ({
  topic: asked.topic,
  partition: asked.partition,
  leader: seen.leader,
  leaderEpoch: seen.leaderEpoch,
  highWatermark: seen.highWatermark,
  records: [],
  nextOffset: asked.offset,
});

async function refusalAsAnswer(
  asked: ConsumeRequest,
  serve: () => Promise<ConsumeResponse>,
): Promise<ConsumeResponse | FetchPartitionError> {
  try {
    return await serve();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { topic: asked.topic, partition: asked.partition, errorType: error.name, errorMessage: error.message };
  }
}

/**
 * KIP-320's OffsetsForLeaderEpoch, answered from the current leader's log: where
 * the asked epoch ended there. A consumer that read up to offset n in epoch e and
 * gets an endOffset below n knows an unclean election truncated what it read
 * (Kafka's consumer then resets to endOffset). Epochs never decrease along a log,
 * so the end is found by a binary search over the leader's records.
 */
export async function offsetsForLeaderEpoch(deps: Deps, input: unknown): Promise<OffsetsForLeaderEpochResponse> {
  const request = parseOffsetsForLeaderEpochRequest(input);
  const partition = await requireLeader(deps, request);
  if (request.leaderEpoch > partition.leaderEpoch) {
    throw new UnknownLeaderEpochError(
      `leader epoch ${request.leaderEpoch} is beyond the current epoch ${partition.leaderEpoch} of ${partitionName(partition)}`,
    );
  }
  const { topic, partition: number, leader } = partition;
  const logEnd = logEndOffsetOf(await deps.metadata.getReplicaStates(topic, number), leader);
  const epochAt = async (offset: number): Promise<number> => {
    const [record] = await deps.log.read(topic, number, leader, offset, offset + 1);
    // A leader's log has no holes below its log end; a missing record means the log moved on under us.
    return record?.leaderEpoch ?? Number.POSITIVE_INFINITY;
  };
  // The first offset in [0, logEnd) whose epoch is above the one asked for, or logEnd.
  let low = 0;
  let high = logEnd;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if ((await epochAt(middle)) > request.leaderEpoch) high = middle;
    else low = middle + 1;
  }
  const endOffset = low;
  const leaderEpoch = endOffset > 0 ? await epochAt(endOffset - 1) : request.leaderEpoch;
  return {
    topic,
    partition: number,
    leader,
    currentLeaderEpoch: partition.leaderEpoch,
    leaderEpoch: Number.isFinite(leaderEpoch) ? leaderEpoch : request.leaderEpoch,
    endOffset,
  };
}

/**
 * What the consume function serves: one partition's records; with `partitions`, a fetch of
 * many; with `offsetsForLeaderEpoch`, that epoch's end offset.
 */
export function serveConsumer(deps: Deps, input: unknown): Promise<ConsumeResponse | FetchResponse | OffsetsForLeaderEpochResponse> {
  if (isFetchRequest(input)) return fetch(deps, input);
  return isOffsetsForLeaderEpochRequest(input) ? offsetsForLeaderEpoch(deps, input) : consume(deps, input);
}
