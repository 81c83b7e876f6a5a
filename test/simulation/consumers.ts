/**
 * The consumers: one per partition in turn, each reading from its position with the
 * leader epoch it last saw (KIP-320), refreshing after a fence and validating its
 * position after a leader change; odd ones read through the fetch, most of them waiting there.
 */
import * as domain from '../../functions/domain/index.js';
import { OffsetOutOfRangeError, StaleEpochError, UnknownLeaderEpochError } from '../../functions/domain/errors.js';
import { consumeThroughFetch } from './fetch.js';
import { TOPIC } from './params.js';
import { Prng } from './prng.js';
import { recordRead } from './recording.js';
import type { World } from './world.js';

const CONSUMERS = 4;

interface ConsumerState {
  offset: number;
  session: number;
  busy: boolean;
  /** The leader epoch the consumer believes current (sent as currentLeaderEpoch). */
  epoch?: number;
  /** The epoch of the last record it read in this session. */
  lastRecordEpoch?: number;
  /** After a leader change: the epoch whose end on the new leader must be checked before fetching on. */
  validate?: number;
}

/** How long a fetching consumer asks the function to wait for records (Kafka's fetch.max.wait.ms), drawn per fetch. */
const FETCH_WAITS_MS = [0, 200, 500, 2_000];

export function scheduleConsumers(world: World): void {
  // Its own stream of draws, so the fetches' waits leave the run's other choices as they were.
  const waits = new Prng(world.seed ^ FETCH_WAIT_STREAM);
  for (let i = 0; i < CONSUMERS; i++) {
    scheduleConsumer(world, i, { offset: 0, session: 0, busy: false }, world.partitions[i % world.partitions.length], waits);
  }
}

const FETCH_WAIT_STREAM = 0x10f9;

function scheduleConsumer(world: World, index: number, state: ConsumerState, partition: number, waits: Prng): void {
  const { scheduler, rng, deps } = world;
  scheduler.after(rng.between(300, 1_500), `consumer-timer:c${index}`, async () => {
    if (!world.clientsOn) return;
    scheduleConsumer(world, index, state, partition, waits);
    if (state.busy) return;
    state.busy = true;
    if (state.validate !== undefined) {
      await validatePosition(world, index, state, partition, state.validate);
      return;
    }
    const offset = state.offset;
    const session = state.session;
    // KIP-320: the consumer sends the epoch it last saw; without one (first fetch, after a refresh) it learns it.
    const currentLeaderEpoch = state.epoch;
    await scheduler.spawn(
      `consume:c${index}:${TOPIC}-${partition}@${offset}${currentLeaderEpoch === undefined ? '' : `e${currentLeaderEpoch}`}`,
      'consume',
      () => {
        const request = { topic: TOPIC, partition, offset, maxRecords: rng.between(1, 8), currentLeaderEpoch };
        // Odd consumers read through a fetch (many partitions' consume in one call), so it is judged too,
        // often a long poll (answered from eventually consistent looks while nothing is new), sometimes for minBytes.
        // They take more records a call, so they catch up with the producers and wait at the end of the log.
        if (index % 2 === 0) return domain.consume(deps, request);
        const wait = { maxWaitMs: waits.pick(FETCH_WAITS_MS), ...(waits.chance(0.2) ? { minBytes: waits.between(50, 400) } : {}) };
        return consumeThroughFetch(deps, { ...request, maxRecords: waits.between(1, 100) }, wait);
      },
      (outcome) => {
        state.busy = false;
        if (!outcome.ok) {
          // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH: refresh the metadata (here: forget the epoch) and retry.
          if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) {
            world.faults.fenced++;
            state.epoch = undefined;
            // Kafka's consumer validates its position after a leader change (KIP-320).
            state.validate = state.lastRecordEpoch;
            return;
          }
          // auto.offset.reset=earliest: a position past the HW (it went back) starts a new session from 0.
          if (outcome.error instanceof OffsetOutOfRangeError && state.session === session) {
            state.offset = 0;
            state.session++;
          }
          return;
        }
        const result = outcome.value;
        recordRead(world, `c${index}`, session, partition, offset, result.records);
        if (state.session === session) state.offset = result.nextOffset;
        if (state.epoch !== undefined && result.leaderEpoch !== state.epoch) state.validate = state.lastRecordEpoch;
        state.epoch = result.leaderEpoch;
        const last = result.records[result.records.length - 1];
        if (last && state.session === session) state.lastRecordEpoch = last.leaderEpoch;
      },
    );
  });
}

/**
 * KIP-320 position validation: where did the epoch of the last record read end on the
 * current leader? Below the position means the log was truncated under the consumer
 * (only an unclean election may do that): it resets there, in a new session.
 */
async function validatePosition(world: World, index: number, state: ConsumerState, partition: number, epoch: number | undefined): Promise<void> {
  const { scheduler } = world;
  if (epoch === undefined) {
    state.validate = undefined;
    state.busy = false;
    return;
  }
  const session = state.session;
  await scheduler.spawn(
    `validate:c${index}:${TOPIC}-${partition}e${epoch}`,
    'consume',
    () => domain.offsetsForLeaderEpoch(world.deps, { topic: TOPIC, partition, offsetsForLeaderEpoch: epoch, currentLeaderEpoch: state.epoch }),
    (outcome) => {
      state.busy = false;
      if (!outcome.ok) {
        if (outcome.error instanceof StaleEpochError || outcome.error instanceof UnknownLeaderEpochError) state.epoch = undefined;
        return;
      }
      state.validate = undefined;
      if (state.session !== session || outcome.value.endOffset >= state.offset) return;
      world.clients.truncations++;
      scheduler.record(`consume:c${index}`, `TRUNCATION detected: epoch ${epoch} ends at ${outcome.value.endOffset} < position ${state.offset}`);
      state.offset = outcome.value.endOffset;
      state.session++;
      state.lastRecordEpoch = undefined;
    },
  );
}
