/**
 * The producers: three long-lived ones (idempotent unless the run says otherwise) that
 * retry a failed batch as it was, start over after a fatal answer or a delivery timeout,
 * and sometimes leave a late copy of a request on its way; short-lived idempotent
 * producers that churn through producer ids; and floods of new producers at once.
 */
import * as domain from '../../functions/domain/index.js';
import {
  DuplicateSequenceError,
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  StaleEpochError,
  UnknownLeaderEpochError,
  UnknownProducerIdError,
} from '../../functions/domain/errors.js';
import { MAX_PRODUCER_EPOCH, MAX_RECORDS_PER_WRITE } from '../../functions/domain/limits.js';
import { PRODUCER_ID_EXPIRATION_MS, TOPIC } from './params.js';
import { recordAck, recordSent } from './recording.js';
import { labelOf } from './trace.js';
import type { World } from './world.js';

const PRODUCERS = 3;
/** See PRODUCER_ID_EXPIRATION_MS: every copy of a batch reaches the leader before its producer expires. */
const DELIVERY_TIMEOUT_MS = 5_000;
const LATE_REQUEST_MAX_MS = 5_000;
/** Short-lived producers (ids p100 on): one or two batches each, some answers lost and retried. */
const CHURN_PRODUCER_BASE = 100;
/** A flood of new producers, one record each, landing at once: more than the 200 a replica once remembered. */
const PRODUCER_FLOOD = 230;

/** Answers after which an idempotent producer cannot continue its sequence. */
const PRODUCER_FATAL = [OutOfOrderSequenceError, InvalidProducerEpochError, UnknownProducerIdError, DuplicateSequenceError];

interface ProducerState {
  sent: number;
  busy: boolean;
  /** The leader epoch last seen per partition (sent as currentLeaderEpoch). */
  epochs: Map<number, number>;
  /** From InitProducerId, when idempotent. */
  producerId?: number;
  /** Raised (at sequence 0) when the producer starts over on its id instead of taking a new one (KIP-360). */
  producerEpoch: number;
  /** Per partition: the sequence of the next new batch. */
  nextSequence: Map<number, number>;
  /** The batch that failed and is retried before any new one, and when it was first sent. */
  pending?: { partition: number; values: string[]; baseSequence: number; firstSentAt: number };
}

/** An idempotent produce request as sent (a late copy of it may arrive after the producer gave it up). */
interface SentBatch {
  partition: number;
  values: string[];
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Starts the long-lived producers and, when idempotent, the churn of short-lived ones; on a diskless topic, a producer of several partitions at once too. */
export function scheduleProducers(world: World): void {
  for (let i = 0; i < PRODUCERS; i++) {
    scheduleProducer(world, i, { sent: 0, busy: false, epochs: new Map(), producerEpoch: 0, nextSequence: new Map() });
  }
  if (world.idempotence) scheduleChurn(world);
  if (world.diskless && world.idempotence) {
    scheduleMultiProducer(world, { sent: 0, busy: false, epochs: new Map(), producerEpoch: 0, nextSequence: new Map(), pending: new Map() });
  }
}

/**
 * Mostly a few records, sometimes a batch large enough that a follower lagging behind
 * it and the next ones needs several copies that end inside some batch (a copy holds at
 * most one leader append's worth), up to one leader append: larger requests are split
 * into several batches, which are not one unit.
 */
function batchSize(world: World): number {
  const { rng } = world;
  const roll = rng.next();
  if (roll < 0.4) return rng.between(1, 3);
  return roll < 0.6 ? rng.between(4, 30) : rng.between(31, MAX_RECORDS_PER_WRITE);
}

function newBatch(world: World, index: number, state: { sent: number }, partition: number): string[] {
  const values = Array.from({ length: batchSize(world) }, () => `p${index}-${state.sent++}`);
  recordSent(world, `p${index}`, partition, values);
  return values;
}

function scheduleProducer(world: World, index: number, state: ProducerState): void {
  const { scheduler, rng, deps, params, idempotence } = world;
  const now = world.now;
  scheduler.after(rng.between(200, 2_000), `producer-timer:p${index}`, async () => {
    if (!world.clientsOn) return;
    scheduleProducer(world, index, state);
    if (state.busy) return;
    state.busy = true;
    if (idempotence && state.producerId === undefined) {
      await scheduler.spawn(`init-producer:p${index}`, 'produce', () => domain.initProducerId(deps, {}), (outcome) => {
        state.busy = false;
        if (outcome.ok) state.producerId = outcome.value.producerId;
      });
      return;
    }
    if (idempotence && state.pending && now() - state.pending.firstSentAt > DELIVERY_TIMEOUT_MS) {
      // delivery.timeout.ms: the batch is given up, its fate unknown, and the producer starts over.
      state.busy = false;
      startOver(world, index, state, 'delivery timeout');
      return;
    }
    // Like Kafka's producer, a batch that failed is retried as it was (same records, same sequence) before any new one.
    const partition = state.pending?.partition ?? rng.pick(world.partitions);
    const values = state.pending?.values ?? newBatch(world, index, state, partition);
    const baseSequence = state.pending?.baseSequence ?? state.nextSequence.get(partition) ?? 0;
    state.pending = { partition, values, baseSequence, firstSentAt: state.pending?.firstSentAt ?? now() };
    const idempotenceFields =
      idempotence && state.producerId !== undefined
        ? { producerId: state.producerId, producerEpoch: state.producerEpoch, baseSequence }
        : {};
    await scheduler.spawn(
      `produce:p${index}:${TOPIC}-${partition}:${labelOf(values)}${idempotence ? `#${baseSequence}` : ''}`,
      'produce',
      () =>
        domain.produce(deps, {
          topic: TOPIC,
          partition,
          records: values.map((value) => ({ value })),
          acks: params.acks === 'all' ? 'all' : 1,
          currentLeaderEpoch: state.epochs.get(partition),
          ...idempotenceFields,
        }),
      (outcome) => {
        state.busy = false;
        if (!outcome.ok) {
          if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) {
            state.epochs.delete(partition);
          }
          if (PRODUCER_FATAL.some((fatal) => outcome.error instanceof fatal)) {
            // Kafka's idempotent producer cannot go on from a broken sequence: it starts over.
            startOver(world, index, state, `FATAL ${(outcome.error as Error).name}`);
          }
          return;
        }
        if (idempotence && rng.chance(0.08)) {
          // The answer is lost and the producer gives the batch up at once (its own timeout), while a copy is still on its way.
          startOver(world, index, state, 'answer lost', 1);
          return;
        }
        const result = outcome.value;
        state.pending = undefined;
        state.nextSequence.set(partition, domain.incrementSequence(baseSequence, values.length));
        state.epochs.set(partition, result.leaderEpoch);
        recordAck(world, `p${index}`, partition, values, result);
        scheduler.record(
          `produce:p${index}`,
          `ACK ${labelOf(values)} @${result.baseOffset} e${result.leaderEpoch}${result.duplicate ? ' (duplicate)' : ''}`,
        );
      },
    );
  });
}

/**
 * An idempotent producer that cannot continue its sequence, or gave a batch up, starts
 * over as the client does: on its id with the next producer epoch from sequence 0
 * (KIP-360's epoch bump), or under a new producer id once the epoch is spent. The batch
 * it gave up may still be on its way: sometimes a copy of that request arrives late,
 * after the restart, and must then land before the new epoch's batches or not at all.
 */
function startOver(world: World, index: number, state: ProducerState, why: string, lateChance = 0.5): void {
  const { scheduler } = world;
  const abandoned = state.pending;
  const previous = state.producerId === undefined ? undefined : { producerId: state.producerId, producerEpoch: state.producerEpoch };
  if (previous && previous.producerEpoch < MAX_PRODUCER_EPOCH) {
    state.producerEpoch++;
    scheduler.record(`produce:p${index}`, `${why}: producer ${previous.producerId} bumps to epoch ${state.producerEpoch}`);
  } else {
    state.producerId = undefined;
    state.producerEpoch = 0;
    scheduler.record(`produce:p${index}`, `${why}: new producer id`);
  }
  state.nextSequence.clear();
  state.pending = undefined;
  if (abandoned && previous && world.now() - abandoned.firstSentAt <= DELIVERY_TIMEOUT_MS + 2_000 && world.rng.chance(lateChance)) {
    sendLate(world, `p${index}`, { ...abandoned, ...previous });
  }
}

/**
 * A copy of a request that the producer no longer waits for (a network retry, a queued
 * invocation) reaching the leader late. Its answer goes nowhere; if it writes its batch
 * a second time, the checker sees the duplicate.
 */
function sendLate(world: World, who: string, batch: SentBatch): void {
  const { scheduler } = world;
  world.clients.lateOnTheWay++;
  scheduler.after(world.rng.between(0, LATE_REQUEST_MAX_MS), `late-timer:${who}`, async () => {
    world.clients.lateOnTheWay--;
    await scheduler.spawn(
      `late:${who}:${TOPIC}-${batch.partition}:${batch.values.join(',')}#${batch.producerEpoch}.${batch.baseSequence}`,
      'produce',
      () =>
        domain.produce(world.deps, {
          topic: TOPIC,
          partition: batch.partition,
          records: batch.values.map((value) => ({ value })),
          acks: 1,
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          baseSequence: batch.baseSequence,
        }),
    );
  });
}

/**
 * Short-lived idempotent producers: InitProducerId, one or two batches to one
 * partition, then gone. Some answers are lost (the batch is retried as it was), some
 * producers idle past the expiration before their second batch (which the leader then
 * refuses: the producer was forgotten), and now and then a lost answer is followed by a
 * flood of new producers to the same partition before the retry.
 */
function scheduleChurn(world: World): void {
  const { scheduler, rng } = world;
  scheduler.after(rng.between(500, 3_000), 'churn-timer', async () => {
    if (!world.clientsOn) return;
    scheduleChurn(world);
    const index = CHURN_PRODUCER_BASE + world.clients.churned++;
    await scheduler.spawn(`init-producer:p${index}`, 'produce', () => domain.initProducerId(world.deps, {}), (outcome) => {
      if (!outcome.ok) return;
      const producer = { producerId: outcome.value.producerId, producerEpoch: 0, partition: rng.pick(world.partitions) };
      const batches = rng.between(1, 2);
      scheduler.after(0, `churn-first:p${index}`, () => churnBatch(world, index, producer, 0, batches, 0));
    });
  });
}

function churnBatch(
  world: World,
  index: number,
  producer: { producerId: number; producerEpoch: number; partition: number },
  sequence: number,
  batchesLeft: number,
  n: number,
): Promise<void> {
  const { scheduler, rng, deps, params } = world;
  const now = world.now;
  const values = Array.from({ length: rng.between(1, 2) }, (_, i) => `p${index}-${n + i}`);
  const batch: SentBatch = { ...producer, values, baseSequence: sequence };
  recordSent(world, `p${index}`, producer.partition, values);
  const firstSentAt = now();
  const attempt = async (): Promise<void> => {
    const answerLost = rng.chance(0.3);
    await scheduler.spawn(
      `produce:p${index}:${TOPIC}-${producer.partition}:${values.join(',')}#${sequence}`,
      'produce',
      () =>
        domain.produce(deps, {
          topic: TOPIC,
          partition: producer.partition,
          records: values.map((value) => ({ value })),
          acks: params.acks === 'all' ? 'all' : 1,
          producerId: batch.producerId,
          producerEpoch: batch.producerEpoch,
          baseSequence: batch.baseSequence,
        }),
      (outcome) => {
        const fatal = !outcome.ok && PRODUCER_FATAL.some((kind) => outcome.error instanceof kind);
        if (fatal || now() - firstSentAt > DELIVERY_TIMEOUT_MS) {
          scheduler.record(`produce:p${index}`, fatal ? `FATAL ${(outcome as { error: Error }).error.name}: gone` : 'delivery timeout: gone');
          return;
        }
        if (!outcome.ok || answerLost) {
          if (outcome.ok && rng.chance(0.05)) flood(world, producer.partition);
          scheduler.after(rng.between(100, 1_500), `churn-retry:p${index}`, attempt);
          return;
        }
        recordAck(world, `p${index}`, producer.partition, values, outcome.value);
        if (batchesLeft > 1) {
          // Some idle past the expiration: their next batch finds them forgotten.
          scheduler.after(rng.between(1_000, PRODUCER_ID_EXPIRATION_MS * 1.5), `churn-next:p${index}`, () =>
            churnBatch(world, index, producer, domain.incrementSequence(sequence, values.length), batchesLeft - 1, n + values.length),
          );
        }
      },
    );
  };
  return attempt();
}

/** PRODUCER_FLOOD new producers write one record each to the partition, all between two steps of everyone else. */
function flood(world: World, partition: number): void {
  const { scheduler, deps } = world;
  world.faults.flood++;
  const first = CHURN_PRODUCER_BASE + world.clients.churned;
  world.clients.churned += PRODUCER_FLOOD;
  scheduler.after(0, 'flood-timer', async () => {
    await scheduler.spawn(
      `flood:${TOPIC}-${partition}:p${first}..p${first + PRODUCER_FLOOD - 1}`,
      'produce',
      async () => {
        let written = 0;
        for (let i = 0; i < PRODUCER_FLOOD; i++) {
          const { producerId } = await domain.initProducerId(deps, {});
          try {
            await domain.produce(deps, {
              topic: TOPIC,
              partition,
              records: [{ value: `p${first + i}-0` }],
              acks: 1,
              producerId,
              producerEpoch: 0,
              baseSequence: 0,
            });
            written++;
          } catch {
            // No leader, a lost race: that producer is gone.
          }
        }
        return written;
      },
      (outcome) => scheduler.record('flood', outcome.ok ? `${outcome.value} producers wrote` : 'failed'),
      { atomic: true },
    );
  });
}

/** The producer that sends batches for several partitions in one call (Kafka's ProduceRequest: produceBatches). */
const MULTI_PRODUCER = 9;
const FATAL_NAMES = new Set<string>(PRODUCER_FATAL.map((fatal) => fatal.name));
const MOVED_NAMES = new Set(['StaleEpochError', 'FencedLeaderEpochError', 'UnknownLeaderEpochError', 'NotLeaderError']);

interface MultiProducerState extends Omit<ProducerState, 'pending'> {
  /** Per partition, the batch that failed and is retried (as it was) before any new one there. */
  pending: Map<number, { values: string[]; baseSequence: number; firstSentAt: number }>;
}

/**
 * Idempotent, like the long-lived producers, but each call carries a batch for each of
 * several partitions (those with a batch to retry, and some others); each batch is
 * acknowledged or refused on its own, and a refused one is retried as it was.
 */
function scheduleMultiProducer(world: World, state: MultiProducerState): void {
  const { scheduler, rng, deps, params } = world;
  const now = world.now;
  const who = `p${MULTI_PRODUCER}`;
  scheduler.after(rng.between(200, 2_000), `producer-timer:${who}`, async () => {
    if (!world.clientsOn) return;
    scheduleMultiProducer(world, state);
    if (state.busy) return;
    state.busy = true;
    if (state.producerId === undefined) {
      await scheduler.spawn(`init-producer:${who}`, 'produce', () => domain.initProducerId(deps, {}), (outcome) => {
        state.busy = false;
        if (outcome.ok) state.producerId = outcome.value.producerId;
      });
      return;
    }
    if ([...state.pending.values()].some((batch) => now() - batch.firstSentAt > DELIVERY_TIMEOUT_MS)) {
      state.busy = false;
      startOverMulti(world, state, 'delivery timeout');
      return;
    }
    const partitions = world.partitions.filter((p) => state.pending.has(p) || rng.chance(0.6));
    if (partitions.length === 0) partitions.push(rng.pick(world.partitions));
    const batches = partitions.map((partition) => {
      const pending = state.pending.get(partition) ?? {
        values: newBatch(world, MULTI_PRODUCER, state, partition),
        baseSequence: state.nextSequence.get(partition) ?? 0,
        firstSentAt: now(),
      };
      state.pending.set(partition, pending);
      return { partition, ...pending };
    });
    const { producerId, producerEpoch } = state;
    const sentAtStep = scheduler.steps;
    await scheduler.spawn(
      `produce-batches:${who}:${batches.map((b) => `${TOPIC}-${b.partition}:${labelOf(b.values)}#${b.baseSequence}`).join('+')}`,
      'produce',
      () =>
        domain.produceBatches(deps, {
          acks: params.acks === 'all' ? 'all' : 1,
          batches: batches.map((b) => ({
            topic: TOPIC,
            partition: b.partition,
            records: b.values.map((value) => ({ value })),
            currentLeaderEpoch: state.epochs.get(b.partition),
            producerId,
            producerEpoch,
            baseSequence: b.baseSequence,
          })),
        }),
      (outcome) => {
        state.busy = false;
        // A failed call: every batch stays pending, retried as it was.
        if (!outcome.ok) return;
        let fatal: string | undefined;
        outcome.value.results.forEach((result, i) => {
          const { partition, values, baseSequence } = batches[i];
          if ('errorType' in result) {
            if (MOVED_NAMES.has(result.errorType)) state.epochs.delete(partition);
            if (FATAL_NAMES.has(result.errorType)) fatal = result.errorType;
            return;
          }
          state.pending.delete(partition);
          state.nextSequence.set(partition, domain.incrementSequence(baseSequence, values.length));
          state.epochs.set(partition, result.leaderEpoch);
          recordAck(world, who, partition, values, result, sentAtStep);
          scheduler.record(`produce:${who}`, `ACK ${labelOf(values)} @${TOPIC}-${partition}:${result.baseOffset} e${result.leaderEpoch}${result.duplicate ? ' (duplicate)' : ''}`);
        });
        if (fatal) startOverMulti(world, state, `FATAL ${fatal}`);
      },
    );
  });
}

/** As startOver: the next producer epoch (or a new id once spent), every partition's sequence from 0, the pending batches given up. */
function startOverMulti(world: World, state: MultiProducerState, why: string): void {
  if (state.producerId !== undefined && state.producerEpoch < MAX_PRODUCER_EPOCH) {
    state.producerEpoch++;
  } else {
    state.producerId = undefined;
    state.producerEpoch = 0;
  }
  world.scheduler.record(`produce:p${MULTI_PRODUCER}`, `${why}: starts over (producer epoch ${state.producerEpoch})`);
  state.nextSequence.clear();
  state.pending.clear();
}
