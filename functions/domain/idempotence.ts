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
} from './errors.js';
import { MAX_PRODUCERS_PER_REPLICA, MAX_RUNS_PER_PRODUCER } from './limits.js';
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

const lastSequenceOf = (state: ProducerState): number | null => {
  const last = state.runs[state.runs.length - 1];
  return last ? last.firstSequence + last.count - 1 : null;
};

/**
 * The producer state of the log [0, logEnd): runs at or above the log end describe
 * records a truncation removed (perhaps in a write that has not finished), so they
 * are cut off; a producer left without records is forgotten.
 */
export function clipToLogEnd(producers: ProducerStates | undefined, logEnd: number): ProducerStates {
  const clipped: ProducerStates = {};
  for (const [producerId, state] of Object.entries(producers ?? {})) {
    const runs = state.runs
      .filter((run) => run.firstOffset < logEnd)
      .map((run) => ({ ...run, count: Math.min(run.count, logEnd - run.firstOffset) }));
    if (runs.length > 0) clipped[producerId] = { ...state, runs };
  }
  return clipped;
}

/**
 * The producer state after `records` (contiguous, appended at the log end the state
 * was clipped to). Deterministic in the records alone, so a follower that copies them
 * ends with the state the leader had.
 */
export function withRecords(
  producers: ProducerStates,
  records: ReadonlyArray<Pick<LogRecord, 'offset' | 'appendedAt' | 'producer'>>,
): ProducerStates {
  const next: ProducerStates = { ...producers };
  for (const record of records) {
    if (!record.producer) continue;
    const { producerId, producerEpoch, sequence } = record.producer;
    const id = String(producerId);
    const previous = next[id];
    const sameEpoch = previous !== undefined && previous.producerEpoch === producerEpoch;
    const runs: SequenceRun[] = sameEpoch ? previous.runs.map((run) => ({ ...run })) : [];
    const last = runs[runs.length - 1];
    if (last && last.firstSequence + last.count === sequence && last.firstOffset + last.count === record.offset) {
      last.count += 1;
    } else {
      runs.push({ firstSequence: sequence, firstOffset: record.offset, count: 1 });
    }
    next[id] = { producerEpoch, runs: runs.slice(-MAX_RUNS_PER_PRODUCER), lastAppendedAt: record.appendedAt };
  }
  return evictIdlest(next);
}

function evictIdlest(producers: ProducerStates): ProducerStates {
  const ids = Object.keys(producers);
  if (ids.length <= MAX_PRODUCERS_PER_REPLICA) return producers;
  const byRecency = ids.sort(
    (a, b) => producers[b].lastAppendedAt - producers[a].lastAppendedAt || Number(b) - Number(a),
  );
  return Object.fromEntries(byRecency.slice(0, MAX_PRODUCERS_PER_REPLICA).map((id) => [id, producers[id]]));
}

/**
 * Kafka's sequence check of a batch of `count` records against the leader's clipped
 * producer state. Throws InvalidProducerEpochError (an older epoch), or
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
        `${state ? ' in this epoch' : ''}: a producer's first batch starts at sequence 0; nothing was written`,
    );
  }
  const lastSequence = lastSequenceOf(state)!;
  if (baseSequence === lastSequence + 1) return { kind: 'append', firstOfProducer: false };
  const lastOfBatch = baseSequence + count - 1;
  const holding = state.runs.find((run) => run.firstSequence <= baseSequence && lastOfBatch < run.firstSequence + run.count);
  if (holding) return { kind: 'duplicate', baseOffset: holding.firstOffset + (baseSequence - holding.firstSequence) };
  if (lastOfBatch <= lastSequence && baseSequence < state.runs[0].firstSequence) {
    throw new DuplicateSequenceError(
      `${who} resent sequences ${baseSequence}..${lastOfBatch} to ${where}: they were written long ago and their ` +
        `offsets are no longer remembered; nothing was written again`,
    );
  }
  throw new OutOfOrderSequenceError(
    `${who} sent sequences ${baseSequence}..${lastOfBatch} to ${where}, but the last sequence there is ${lastSequence}: ` +
      `expected ${lastSequence + 1}; nothing was written`,
  );
}

/** The stamps of a batch's records, in order. */
export const stampsOf = (batch: IdempotentBatch, count: number): ProducerStamp[] =>
  Array.from({ length: count }, (_, i) => ({
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    sequence: batch.baseSequence + i,
  }));
