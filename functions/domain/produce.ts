/**
 * Produce: append on the partition's leader, fenced by its epoch, and for
 * acks=all wait until the whole ISR has the records (the high watermark passed them).
 * A diskless topic's records are first written as an object (ObjectStore), and the log
 * holds their range in it; everything else is the same.
 */
import type { ProduceResponse } from '../../protocol/messages.js';
import type { Deps, LeaderAppend } from '../ports/index.js';
import {
  ConcurrentAppendError,
  currentLeaderHint,
  NotEnoughReplicasAfterAppendError,
  NotEnoughReplicasError,
  NotLeaderError,
  ReplicationTimeoutError,
  StaleEpochError,
  UnknownProducerIdError,
  WriteConflictError,
} from './errors.js';
import { isLeaseAlive } from './broker-lease.js';
import { currentGeneration } from './generations.js';
import { logEndOffsetOf, replicaStateOf } from './high-watermark.js';
import {
  clipToLogEnd,
  decideSequence,
  incrementSequence,
  requireRoomFor,
  stampsOf,
  unexpired,
  withRecords,
  type IdempotentBatch,
} from './idempotence.js';
import { APPEND_RETRY_BACKOFF_MS, MAX_APPEND_ATTEMPTS, MAX_RECORDS_PER_WRITE } from './limits.js';
import { requireLeader, requirePartition, requireTopic } from './lookup.js';
import type { BrokerId, LogRecord, PartitionMetadata, ProducerStamp, ReplicaState, StoredBatchRef, TopicConfig } from './model.js';
import { appendBatch } from './record-batch.js';
import { inSyncFollowers, type OnlinePartition } from './partitions.js';
import { advanceHighWatermark, syncFollower } from './replica-sync.js';
import { replicateUpTo } from './replicate.js';
import { parseProduceRequest, type ProduceRequest, type ProducedRecord } from './requests.js';
import { brokerList, partitionName } from './views.js';

/** One chunk's outcome: where its records are, and whether this call wrote them. */
export interface ChunkOutcome {
  /** The records this call appended (none for a duplicate): copied to the followers without a read. */
  records: LogRecord[];
  baseOffset: number;
  lastOffset: number;
  /** The replica states as read for the append, the leader's log end moved past these records. */
  statesAfter: ReplicaState[];
  duplicate: boolean;
}

/**
 * Requests of more than 98 records are written as several appends: each is
 * atomic and contiguous, but another producer's records may land between them,
 * and a failure midway leaves the earlier ones written (like separate Kafka batches;
 * an idempotent producer's retry then finds those chunks as duplicates).
 *
 * acks=all replicates in the request itself: the leader's records are copied to the
 * live in-sync followers and the HW advanced before the answer, through the same
 * fenced steps as the log-stream replication (which stays as the repair path).
 */
export async function produce(deps: Deps, input: unknown): Promise<ProduceResponse> {
  return produceParsed(deps, parseProduceRequest(input));
}

/** produce, of a request already parsed (produceBatches runs its replicated batches through it). */
export async function produceParsed(deps: Deps, request: ProduceRequest): Promise<ProduceResponse> {
  const admitted = await admit(deps, request);
  const chunks = await appendAll(deps, admitted, request);
  return acknowledge(deps, admitted, request, chunks);
}

/** A produce let through to its partition's leader: the topic, the partition as read, and its live followers (looked up meanwhile). */
export interface Admitted {
  config: TopicConfig;
  partition: OnlinePartition;
  liveFollowers: Promise<BrokerId[]>;
  /**
   * acks=all replicated in the request: this call copies its records to the followers and
   * commits them itself (driving the commit while it waits), so its batches are marked for the
   * log stream to leave alone (LogRecord.writerCopies). A writer that dies midway leaves the
   * copy to the next append's (which copies whatever a follower lacks) or to the reconciler.
   */
  writerCopies: boolean;
}

/** The checks before anything is written: the leader and epoch the request names, and min.insync.replicas for acks=all. */
export async function admit(deps: Deps, request: ProduceRequest): Promise<Admitted> {
  const [config, partition] = await Promise.all([requireTopic(deps, request.topic), requireLeader(deps, request)]);
  // Kafka applies min.insync.replicas to acks=all only: acks=1 never promised more than the leader's copy.
  if (request.acks === 'all' && partition.isr.length < config.minInsyncReplicas) {
    throw new NotEnoughReplicasError(
      `partition ${partitionName(partition)} has ${partition.isr.length} in-sync replica(s) ${brokerList(partition.isr)}, ` +
        `fewer than min.insync.replicas ${config.minInsyncReplicas}; nothing was written`,
    );
  }
  const inline = request.acks === 'all' && deps.settings.replicateOnProduce;
  // Looked up while the records are appended: only live followers are copied to.
  const liveFollowers = inline ? liveInSyncFollowers(deps, partition) : Promise.resolve([]);
  liveFollowers.catch(() => undefined);
  return { config, partition, liveFollowers, writerCopies: inline };
}

/** The answer once the chunks are appended: for acks=all, after the ISR has them (copied inline, or waited for). */
export async function acknowledge(deps: Deps, admitted: Admitted, request: ProduceRequest, chunks: ChunkOutcome[]): Promise<ProduceResponse> {
  const { config, partition } = admitted;
  const inline = request.acks === 'all' && deps.settings.replicateOnProduce;
  const last = chunks[chunks.length - 1];
  const target = last.lastOffset + 1;
  let highWatermark = partition.highWatermark;
  if (request.acks === 'all') {
    const committed = inline ? await replicateNow(deps, partition, chunks, await admitted.liveFollowers, target) : false;
    highWatermark = committed ? target : await awaitCommit(deps, partition, target, config.minInsyncReplicas, admitted.writerCopies);
  }
  return {
    topic: partition.topic,
    partition: partition.partition,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    baseOffset: chunks[0].baseOffset,
    lastOffset: last.lastOffset,
    highWatermark,
    ...(chunks.every((chunk) => chunk.duplicate) ? { duplicate: true as const } : {}),
  };
}

/** The records of a request cut into appends of at most MAX_RECORDS_PER_WRITE, each with its idempotent batch. */
export function chunksOf(request: ProduceRequest): Array<{ records: ProducedRecord[]; batch: IdempotentBatch | undefined }> {
  const { records, idempotence } = request;
  const chunks: Array<{ records: ProducedRecord[]; batch: IdempotentBatch | undefined }> = [];
  for (let start = 0; start < records.length; start += MAX_RECORDS_PER_WRITE) {
    const batch = idempotence ? { ...idempotence, baseSequence: incrementSequence(idempotence.baseSequence, start) } : undefined;
    chunks.push({ records: records.slice(start, start + MAX_RECORDS_PER_WRITE), batch });
  }
  return chunks;
}

/**
 * Appends the request's chunks in order. `firstTry`, when given, is the first attempt at
 * the first chunk (produceBatches: its append with the call's shared object); a lost race
 * retries that chunk alone, as any other.
 */
export async function appendAll(
  deps: Deps,
  admitted: Admitted,
  request: ProduceRequest,
  firstTry?: () => Promise<ChunkOutcome>,
): Promise<ChunkOutcome[]> {
  const outcomes: ChunkOutcome[] = [];
  const diskless = admitted.config.storage === 'diskless';
  for (const [i, chunk] of chunksOf(request).entries()) {
    outcomes.push(await appendChunk(deps, admitted, diskless, chunk.records, chunk.batch, i === 0 ? firstTry : undefined));
  }
  return outcomes;
}

/**
 * Appends at the leader's current log end. A concurrent producer that took those
 * offsets first means: retry at the new end. An idempotent batch is checked against
 * the producer state read with that log end, and the new state is written with the
 * records, so the check and the append are one atomic decision. A diskless topic's
 * chunk is first written to a new object, meant for that log end; a retry writes
 * another (an object's manifest never changes, so it always names where its batch went).
 */
async function appendChunk(
  deps: Deps,
  { partition, writerCopies }: Admitted,
  diskless: boolean,
  records: ProducedRecord[],
  batch: IdempotentBatch | undefined,
  firstTry?: () => Promise<ChunkOutcome>,
): Promise<ChunkOutcome> {
  const known = { producerId: false };
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) await deps.sleep(APPEND_RETRY_BACKOFF_MS * (attempt - 1));
    try {
      if (attempt === 1 && firstTry) return await firstTry();
      const prepared = await prepareChunk(deps, partition, records, batch, known, writerCopies);
      if (prepared.kind === 'duplicate') return prepared.outcome;
      const [stored] = diskless ? await deps.objects.write([leaderRecordsOf(prepared.append)]) : [undefined];
      return await commitChunk(deps, prepared, stored);
    } catch (error) {
      if (!(error instanceof StaleEpochError)) throw error;
      // The same error covers a lost offset race and a lost leadership; only the first is worth retrying.
      await requireSameLeadership(deps, partition);
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        throw new ConcurrentAppendError(
          `${MAX_APPEND_ATTEMPTS} appends to ${partitionName(partition)} in a row lost the race for the log end to ` +
            `other producers; nothing of this batch was written - retry`,
        );
      }
    }
  }
}

/** A chunk decided at the log end read: already in the log (a duplicate), or the leader append to make. */
export type PreparedChunk =
  | { kind: 'duplicate'; outcome: ChunkOutcome }
  | { kind: 'append'; append: LeaderAppend; states: ReplicaState[] };

/**
 * Reads the leader's log end and producer state and decides the chunk's append there
 * (or that it is a duplicate). `known` remembers across attempts that the producer id
 * was handed out.
 */
export async function prepareChunk(
  deps: Deps,
  partition: OnlinePartition,
  records: ProducedRecord[],
  batch: IdempotentBatch | undefined,
  known: { producerId: boolean },
  writerCopies: boolean,
): Promise<PreparedChunk> {
  const states = await deps.metadata.getReplicaStates(partition.topic, partition.partition);
  const logEnd = logEndOffsetOf(states, partition.leader);
  const leaderState = replicaStateOf(states, partition.leader);
  const appendedAt = deps.clock.now();
  const { producerIdExpirationMs } = deps.settings;
  // Kafka's producer.id.expiration.ms, judged as of this append: the written state leaves the expired out too.
  const producersNow = unexpired(clipToLogEnd(leaderState?.producers, logEnd), appendedAt, producerIdExpirationMs);
  let stamped: Array<ProducedRecord & { producer?: ProducerStamp }> = records;
  if (batch) {
    const where = `${partitionName(partition)} (leader ${partition.leader})`;
    const decision = decideSequence(producersNow, batch, records.length, where);
    if (decision.kind === 'duplicate') return { kind: 'duplicate', outcome: duplicateOf(decision.baseOffset, records.length, states) };
    requireRoomFor(producersNow, batch, logEnd, partition.highWatermark, where);
    if (decision.firstOfProducer && !known.producerId) {
      known.producerId = await deps.metadata.isProducerIdAllocated(batch.producerId);
      if (!known.producerId) {
        throw new UnknownProducerIdError(`producer id ${batch.producerId} was never handed out by InitProducerId; nothing was written`);
      }
    }
    const stamps = stampsOf(batch, records.length);
    stamped = records.map((record, i) => ({ ...record, producer: stamps[i] }));
  }
  const append: LeaderAppend = {
    topic: partition.topic,
    partition: partition.partition,
    leader: partition.leader,
    leaderEpoch: partition.leaderEpoch,
    startOffset: logEnd,
    generation: currentGeneration(leaderState ?? {}),
    records: stamped,
    appendedAt,
    ...(writerCopies ? { writerCopies: true as const } : {}),
    ...(batch
      ? {
          producers: withRecords(
            producersNow,
            stamped.map(({ producer }, i) => ({ offset: logEnd + i, appendedAt, producer })),
            producerIdExpirationMs,
          ),
        }
      : {}),
  };
  return { kind: 'append', append, states };
}

/** The prepared append, made (with `stored`: a diskless chunk already in its object). Throws StaleEpochError on a lost race or leadership. */
export async function commitChunk(
  deps: Deps,
  prepared: Extract<PreparedChunk, { kind: 'append' }>,
  stored: StoredBatchRef | undefined,
): Promise<ChunkOutcome> {
  const { append, states } = prepared;
  const appended = await deps.log.appendAsLeader(stored ? { ...append, stored } : append);
  const end = append.startOffset + appended.length;
  const statesAfter = states.map((state) => (state.brokerId === append.leader ? { ...state, logEndOffset: end } : state));
  return { records: appended, baseOffset: append.startOffset, lastOffset: end - 1, duplicate: false, statesAfter };
}

/** The records of a leader append as the leader's log will hold them: what its object stores. */
export const leaderRecordsOf = (append: LeaderAppend): LogRecord[] =>
  append.records.map((record, i) => ({
    topic: append.topic,
    partition: append.partition,
    replica: append.leader,
    offset: append.startOffset + i,
    leaderEpoch: append.leaderEpoch,
    key: record.key,
    value: record.value,
    appendedAt: append.appendedAt,
    copy: 'leader',
    ...(record.producer ? { producer: { ...record.producer } } : {}),
    batch: appendBatch(append.startOffset, append.records.length),
  }));

/**
 * A batch already in the leader's log: nothing is written, and acks=all still waits for
 * (and drives) its replication; the copy reads from the leader's log what a follower lacks.
 */
const duplicateOf = (baseOffset: number, count: number, states: ReplicaState[]): ChunkOutcome => ({
  records: [],
  baseOffset,
  lastOffset: baseOffset + count - 1,
  duplicate: true,
  statesAfter: states,
});

async function liveInSyncFollowers(deps: Deps, partition: OnlinePartition): Promise<BrokerId[]> {
  const followers = inSyncFollowers(partition);
  const leases = await Promise.all(followers.map((follower) => deps.brokers.get(follower)));
  const now = deps.clock.now();
  // A dead follower cannot fetch: it holds the HW back until the ISR drops it, as in Kafka.
  return followers.filter((_, i) => leases[i] !== null && isLeaseAlive(leases[i], now));
}

/**
 * Copies the leader's records to the live in-sync followers and commits them, as the
 * stream-triggered replicate would a moment later, through the same fenced steps.
 * Returns true when this call committed them: every follower of the ISR it was given
 * reached `target`, and the HW was raised to it at the partition version the produce
 * started from, i.e. with that same ISR (which met min.insync.replicas). Otherwise
 * (a dead follower, a lost race, a move) the caller waits for the commit as without it.
 */
async function replicateNow(
  deps: Deps,
  partition: OnlinePartition,
  chunks: readonly ChunkOutcome[],
  live: readonly BrokerId[],
  target: number,
): Promise<boolean> {
  const records = chunks.flatMap((chunk) => chunk.records);
  const known = new Map(records.filter((record) => record.leaderEpoch === partition.leaderEpoch).map((record) => [record.offset, record]));
  const believed = chunks[chunks.length - 1].statesAfter;
  const reached = await Promise.all(live.map((follower) => syncFollower(deps, partition, follower, known, believed)));
  const everyFollowerThere = live.length === inSyncFollowers(partition).length && reached.every((end) => end !== null && end >= target);
  // A commit refused by a write conflict was not recorded by this call, but the records are where
  // they are: whoever advances the HW next (the stream's replicate, the reconciler) records it.
  const recorded = await unlessConflicted(
    () => (everyFollowerThere ? deps.metadata.advanceHighWatermark(partition.topic, partition.partition, partition.version, target) : Promise.resolve(false)),
    false,
  );
  if (recorded) return true;
  await unlessConflicted(() => advanceHighWatermark(deps, partition), partition.highWatermark);
  return false;
}

/** Runs `work`, whose lost races (a write refused by a concurrent one, or fenced) the caller's next look judges. */
async function unlessRaced(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof WriteConflictError) && !(error instanceof StaleEpochError)) throw error;
  }
}

/** `write`'s result, or `otherwise` when a concurrent transaction refused it (WriteConflictError): nothing was written. */
async function unlessConflicted<T>(write: () => Promise<T>, otherwise: T): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof WriteConflictError) return otherwise;
    throw error;
  }
}

/**
 * Polls the partition until the high watermark passes `target`, as long as the
 * leadership the records went to lasts. Like Kafka's delayed produce, the ISR is
 * judged when the records are committed: one that shrank below min.insync.replicas
 * meanwhile is NOT_ENOUGH_REPLICAS_AFTER_APPEND, not success. A writer that copies its
 * batches itself (`drive`: the log stream leaves them alone) also copies and advances
 * while it waits, as the stream would, less often each time (each try reads the partition,
 * the leases and the replica states).
 */
async function awaitCommit(deps: Deps, partition: OnlinePartition, target: number, minInsyncReplicas: number, drive: boolean): Promise<number> {
  const { produceAckTimeoutMs, produceAckPollMs } = deps.settings;
  const deadline = deps.clock.now() + produceAckTimeoutMs;
  let driveAt = deps.clock.now();
  let driveEvery = produceAckPollMs;
  for (;;) {
    if (drive && deps.clock.now() >= driveAt) {
      await unlessRaced(() => replicateUpTo(deps, partition, target));
      driveAt = deps.clock.now() + driveEvery;
      driveEvery *= 2;
    }
    const current = await requireSameLeadership(deps, partition);
    // With eligible leader replicas the HW does not move below min.insync.replicas (KIP-966): waiting is pointless.
    const belowMinIsr = deps.settings.eligibleLeaderReplicasEnabled && current.isr.length < minInsyncReplicas;
    if (current.highWatermark >= target || belowMinIsr) {
      if (current.isr.length >= minInsyncReplicas) return current.highWatermark;
      throw new NotEnoughReplicasAfterAppendError(
        `records up to offset ${target - 1} of ${partitionName(partition)} were written, but the ISR ` +
          `${brokerList(current.isr)} shrank below min.insync.replicas ${minInsyncReplicas} before they were committed; ` +
          `they are not acknowledged (a retry may write them twice)`,
      );
    }
    if (deps.clock.now() >= deadline) {
      throw new ReplicationTimeoutError(
        `records up to offset ${target - 1} of ${partitionName(partition)} were written by ${partition.leader}, ` +
          `but the ISR ${brokerList(current.isr)} did not confirm them within ${produceAckTimeoutMs} ms ` +
          `(high watermark ${current.highWatermark}); they may still be committed later`,
      );
    }
    await deps.sleep(produceAckPollMs);
  }
}

/**
 * After a leader change the records may or may not survive (the new leader may
 * lack them), so the only honest answer is NOT_LEADER: the client looks the
 * leader up and retries.
 */
async function requireSameLeadership(deps: Deps, expected: OnlinePartition): Promise<PartitionMetadata> {
  const current = await requirePartition(deps, expected.topic, expected.partition);
  if (current.leader !== expected.leader || current.leaderEpoch !== expected.leaderEpoch) {
    throw new NotLeaderError(
      `leadership of ${partitionName(expected)} moved from ${expected.leader} (epoch ${expected.leaderEpoch}) ` +
        `to ${current.leader ?? 'nobody'} (epoch ${current.leaderEpoch}) during the request; look the leader up and retry` +
        currentLeaderHint(current.leader, current.leaderEpoch),
    );
  }
  return current;
}
