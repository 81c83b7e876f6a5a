/**
 * ProduceBatches: Kafka's ProduceRequest, batches for several partitions in one call.
 * Each batch is checked, appended, fenced and acknowledged as a produce of its own would
 * be, and refused on its own (ProduceBatchRefusal: what that produce would have thrown).
 * The batches of diskless topics share one new object: each is prepared at its leader's
 * log end (leader, epoch, min.insync.replicas, idempotence), the ones to write go into one
 * ObjectStore.write, then each is appended with its range. A batch that loses the race
 * for its log end is retried alone, with an object of its own. Replicated topics' batches
 * take the produce path, alongside.
 */
import type { ProduceBatchOutcome, ProduceBatchesResponse, ProduceResponse } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { DomainError } from './errors.js';
import type { StoredBatchRef } from './model.js';
import {
  acknowledge,
  admit,
  appendAll,
  chunksOf,
  commitChunk,
  leaderRecordsOf,
  prepareChunk,
  produceParsed,
  type Admitted,
  type ChunkOutcome,
  type PreparedChunk,
} from './produce.js';
import { parseProduceBatchesRequest, type ProduceRequest } from './requests.js';

/** A diskless batch checked and decided at its leader's log end, before the call's object is written. */
interface Prepared {
  admitted: Admitted;
  first: PreparedChunk;
}

export async function produceBatches(deps: Deps, input: unknown): Promise<ProduceBatchesResponse> {
  const { batches } = parseProduceBatchesRequest(input);
  const configs = await Promise.all(batches.map((batch) => settle(deps.metadata.getTopic(batch.topic))));
  throwFirstFault(configs);
  const diskless = (i: number): boolean => {
    const config = configs[i];
    return config.ok && config.value?.storage === 'diskless';
  };
  const prepared = await Promise.all(batches.map((batch, i) => (diskless(i) ? settle(prepare(deps, batch)) : Promise.resolve(undefined))));
  const toWrite = prepared.flatMap((outcome, i) =>
    outcome?.ok && outcome.value.first.kind === 'append' ? [{ index: i, append: outcome.value.first.append }] : [],
  );
  // Faults fail the call: nothing was written yet.
  throwFirstFault(prepared);
  const refs = new Map<number, StoredBatchRef>();
  if (toWrite.length > 0) {
    const written = await deps.objects.write(toWrite.map(({ append }) => leaderRecordsOf(append)));
    toWrite.forEach(({ index }, i) => refs.set(index, written[i]));
  }
  const outcomes = await Promise.all(
    batches.map((batch, i): Promise<Settled<ProduceResponse>> => {
      const ready = prepared[i];
      if (!ready) return settle(produceParsed(deps, batch));
      if (!ready.ok) return Promise.resolve(ready);
      return settle(appendPrepared(deps, batch, ready.value, refs.get(i)));
    }),
  );
  throwFirstFault(outcomes);
  return { results: outcomes.map((outcome, i) => answerOf(outcome, batches[i])) };
}

async function prepare(deps: Deps, batch: ProduceRequest): Promise<Prepared> {
  const admitted = await admit(deps, batch);
  const [first] = chunksOf(batch);
  return { admitted, first: await prepareChunk(deps, admitted.partition, first.records, first.batch, { producerId: false }, admitted.writerCopies) };
}

/** The batch appended (its first chunk with the call's object, unless a duplicate) and acknowledged as produce would. */
async function appendPrepared(deps: Deps, batch: ProduceRequest, { admitted, first }: Prepared, ref: StoredBatchRef | undefined): Promise<ProduceResponse> {
  const firstTry = (): Promise<ChunkOutcome> => (first.kind === 'duplicate' ? Promise.resolve(first.outcome) : commitChunk(deps, first, ref));
  const chunks = await appendAll(deps, admitted, batch, firstTry);
  return acknowledge(deps, admitted, batch, chunks);
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );

/** A refusal is a batch's own answer; anything else (a store failing) fails the whole call. */
function throwFirstFault(outcomes: ReadonlyArray<Settled<unknown> | undefined>): void {
  for (const outcome of outcomes) {
    if (outcome && !outcome.ok && !(outcome.error instanceof DomainError)) throw outcome.error;
  }
}

function answerOf(outcome: Settled<ProduceResponse>, batch: ProduceRequest): ProduceBatchOutcome {
  if (outcome.ok) return outcome.value;
  const error = outcome.error as DomainError;
  return { topic: batch.topic, partition: batch.partition, errorType: error.name, errorMessage: error.message };
}
