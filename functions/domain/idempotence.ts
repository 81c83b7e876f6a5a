/**
 * The idempotent producer (Kafka's KIP-98 producer id + epoch + sequence), as the
 * leader applies it and every replica remembers it.
 *
 * Each replica keeps, per producer id, its epoch and the latest runs of sequences it
 * holds with their offsets (ReplicaState.producers). The state is a function of the
 * replica's log alone: the leader folds in what it appends, a follower what it copies,
 * and a truncation clips it at the new log end. So whichever replica becomes leader
 * knows exactly which batches its own log holds, and a producer retrying a batch after
 * a timeout or a failover gets the original offsets instead of a second copy.
 */
import {
  DuplicateSequenceError,
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  ProducerStateFullError,
} from './errors.js';
import { MAX_PRODUCERS_PER_REPLICA, MAX_RUNS_PER_PRODUCER, MAX_SEQUENCE } from './limits.js';
import type { LogRecord, ProducerStamp, ProducerState, ProducerStates, SequenceRun } from './model.js';

/** The idempotence fields of a produce request: its first record has `baseSequence`, the next one more, and so on. */
export interface IdempotentBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export type SequenceDecision =
  /** Continue the producer's sequence; `firstOfProducer` when this log holds nothing of it yet. */
  | { kind: 'append'; firstOfProducer: boolean }
  /** Every record of the batch is already in the log, from `baseOffset` on. */
  | { kind: 'duplicate'; baseOffset: number };

const SEQUENCE_SPACE = MAX_SEQUENCE + 1;

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from 2^31-1 to 0. */
export const incrementSequence = (sequence: number, increment: number): number => (sequence + increment) % SEQUENCE_SPACE;

/** How many sequences lie from `from` up to `to`, going forward through the wrap. */
const sequencesFrom = (from: number, to: number): number => (((to - from) % SEQUENCE_SPACE) + SEQUENCE_SPACE) % SEQUENCE_SPACE;

const lastSequenceOf = (run: SequenceRun): number => incrementSequence(run.firstSequence, run.count - 1);

/** The state of a producer whose latest runs these are (oldest first, at least one). */
const stateOf = (runs: SequenceRun[]): ProducerState => {
  const last = runs[runs.length - 1];
  return { producerEpoch: last.producerEpoch, runs, lastAppendedAt: last.lastAppendedAt };
};

/**
 * The producer state of the log [0, logEnd): runs at or above the log end describe
 * records a truncation removed (perhaps in a write that has not finished), so they
 * are cut off; what is left, of whichever producer epoch, is what the log holds (see
 * MAX_RUNS_PER_PRODUCER for why a producer with records below the cut keeps a run).
 * A producer left without records is forgotten.
 */
export function clipToLogEnd(producers: ProducerStates | undefined, logEnd: number): ProducerStates {
  const clipped: ProducerStates = {};
  for (const [producerId, state] of Object.entries(producers ?? {})) {
    const runs = state.runs
      .filter((run) => run.firstOffset < logEnd)
      .map((run) => ({ ...run, count: Math.min(run.count, logEnd - run.firstOffset) }));
    if (runs.length > 0) clipped[producerId] = stateOf(runs);
  }
  return clipped;
}

/**
 * Kafka's producer.id.expiration.ms: the producers that wrote within `expirationMs`
 * before `now`. Time alone decides, never the number of producers.
 */
export function unexpired(producers: ProducerStates, now: number, expirationMs: number): ProducerStates {
  let expired = false;
  const kept: ProducerStates = {};
  for (const [producerId, state] of Object.entries(producers)) {
    if (now - state.lastAppendedAt > expirationMs) expired = true;
    else kept[producerId] = state;
  }
  return expired ? kept : producers;
}

/**
 * The producer state after `records` (contiguous, appended at the log end the state
 * was clipped to). Deterministic in the records alone, so a follower that copies them
 * ends with the state the leader had: before each idempotent record the producers
 * expired as of its appendedAt are dropped, as the leader dropped them when it decided
 * on that record's batch.
 */
export function withRecords(
  producers: ProducerStates,
  records: ReadonlyArray<Pick<LogRecord, 'offset' | 'appendedAt' | 'producer'>>,
  expirationMs: number,
): ProducerStates {
  let next: ProducerStates = { ...producers };
  let expiredAt: number | undefined;
  for (const record of records) {
    if (!record.producer) continue;
    if (record.appendedAt !== expiredAt) {
      next = { ...unexpired(next, record.appendedAt, expirationMs) };
      expiredAt = record.appendedAt;
    }
    const { producerId, producerEpoch, sequence } = record.producer;
    const id = String(producerId);
    const runs: SequenceRun[] = (next[id]?.runs ?? []).map((run) => ({ ...run }));
    const last = runs[runs.length - 1];
    if (
      last &&
      last.producerEpoch === producerEpoch &&
      incrementSequence(lastSequenceOf(last), 1) === sequence &&
      last.firstOffset + last.count === record.offset
    ) {
      last.count += 1;
      last.lastAppendedAt = record.appendedAt;
    } else {
      runs.push({ producerEpoch, firstSequence: sequence, firstOffset: record.offset, count: 1, lastAppendedAt: record.appendedAt });
    }
    next[id] = stateOf(runs.slice(-MAX_RUNS_PER_PRODUCER));
  }
  return next;
}

/**
 * Kafka's sequence check of a batch of `count` records against the leader's clipped,
 * unexpired producer state. Throws InvalidProducerEpochError (an older epoch), or
 * OutOfOrderSequenceError (a gap, or a new epoch or producer not starting at 0), or
 * DuplicateSequenceError (an old batch whose offsets are no longer remembered).
 */
export function decideSequence(
  producers: ProducerStates,
  batch: IdempotentBatch,
  count: number,
  where: string,
): SequenceDecision {
  const { producerId, producerEpoch, baseSequence } = batch;
  const state = producers[String(producerId)];
  const who = `producer ${producerId} (epoch ${producerEpoch})`;
  if (state && producerEpoch < state.producerEpoch) {
    throw new InvalidProducerEpochError(
      `${who} is fenced on ${where}: epoch ${state.producerEpoch} of this producer id has written since; nothing was written`,
    );
  }
  if (!state || producerEpoch > state.producerEpoch) {
    if (baseSequence === 0) return { kind: 'append', firstOfProducer: state === undefined };
    throw new OutOfOrderSequenceError(
      `${who} sent sequence ${baseSequence} to ${where}, whose log holds nothing of this producer` +
        `${state ? ' in this epoch' : ''} (or it expired): a producer's first batch starts at sequence 0; nothing was written`,
    );
  }
  const runs = state.runs.filter((run) => run.producerEpoch === producerEpoch);
  const lastSequence = lastSequenceOf(runs[runs.length - 1]);
  const expected = incrementSequence(lastSequence, 1);
  if (baseSequence === expected) return { kind: 'append', firstOfProducer: false };
  const lastOfBatch = incrementSequence(baseSequence, count - 1);
  const holding = runs.find((run) => sequencesFrom(run.firstSequence, baseSequence) + count <= run.count);
  if (holding) {
    return { kind: 'duplicate', baseOffset: holding.firstOffset + sequencesFrom(holding.firstSequence, baseSequence) };
  }
  // How far the batch starts behind the next expected sequence (a gap ahead counts as nearly the whole space).
  const behind = sequencesFrom(baseSequence, expected);
  const remembered = sequencesFrom(runs[0].firstSequence, expected);
  if (behind >= count && behind > remembered && behind <= SEQUENCE_SPACE / 2) {
    throw new DuplicateSequenceError(
      `${who} resent sequences ${baseSequence}..${lastOfBatch} to ${where}: they were written long ago and their ` +
        `offsets are no longer remembered; nothing was written again`,
    );
  }
  throw new OutOfOrderSequenceError(
    `${who} sent sequences ${baseSequence}..${lastOfBatch} to ${where}, but the last sequence there is ${lastSequence}: ` +
      `expected ${expected}; nothing was written`,
  );
}

/**
 * What the leader must refuse although the sequence is right, so that it never has to
 * forget what a retry or a truncation still needs: a new producer beyond
 * MAX_PRODUCERS_PER_REPLICA (known producers are never dropped for room), and a new run
 * that would push out the producer's oldest run while the run after it is not yet
 * committed (below `highWatermark`), since a truncation could then take every run left.
 * Throws the retriable ProducerStateFullError; `producers` are the unexpired ones.
 */
export function requireRoomFor(
  producers: ProducerStates,
  batch: IdempotentBatch,
  logEnd: number,
  highWatermark: number,
  where: string,
): void {
  const state = producers[String(batch.producerId)];
  if (!state) {
    const known = Object.keys(producers).length;
    if (known >= MAX_PRODUCERS_PER_REPLICA) {
      throw new ProducerStateFullError(
        `${where} remembers ${known} idempotent producers that wrote within producer.id.expiration.ms, its limit; ` +
          `producer ${batch.producerId} is new to it and is refused until one expires; nothing was written - retry later`,
      );
    }
    return;
  }
  const last = state.runs[state.runs.length - 1];
  const continues =
    last.producerEpoch === batch.producerEpoch &&
    incrementSequence(lastSequenceOf(last), 1) === batch.baseSequence &&
    last.firstOffset + last.count === logEnd;
  if (continues || state.runs.length < MAX_RUNS_PER_PRODUCER) return;
  const oldestKept = state.runs[1];
  if (oldestKept.firstOffset >= highWatermark) {
    throw new ProducerStateFullError(
      `producer ${batch.producerId} has ${state.runs.length} batches in ${where} and the oldest it would keep ` +
        `(offset ${oldestKept.firstOffset}) is not committed yet (high watermark ${highWatermark}); nothing was ` +
        `written - retry once the earlier batches are replicated`,
    );
  }
}

/** The stamps of a batch's records, in order. */
export const stampsOf = (batch: IdempotentBatch, count: number): ProducerStamp[] =>
  Array.from({ length: count }, (_, i) => ({
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    sequence: incrementSequence(batch.baseSequence, i),
  }));
