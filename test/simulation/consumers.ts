/**
 * The consumers: one per partition in turn, each reading from its position with the
 * leader epoch it last saw (KIP-320), refreshing after a fence and validating its
 * position after a leader change; odd ones read through the fetch.
 */
import * as domain from '../../functions/domain/index.js';
import { OffsetOutOfRangeError, StaleEpochError, UnknownLeaderEpochError } from '../../functions/domain/errors.js';
import { consumeThroughFetch } from './fetch.js';
import { TOPIC } from './params.js';
import { recordRead } from './recording.js';
import type { World } from './world.js';

const CONSUMERS = 3;

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

export function scheduleConsumers(world: World): void {
  for (let i = 0; i < CONSUMERS; i++) {
    scheduleConsumer(world, i, { offset: 0, session: 0, busy: false }, world.partitions[i % world.partitions.length]);
  }
}

function scheduleConsumer(world: World, index: number, state: ConsumerState, partition: number): void {
  const { scheduler, rng, deps } = world;
  scheduler.after(rng.between(300, 1_500), `consumer-timer:c${index}`, async () => {
    if (!world.clientsOn) return;
    scheduleConsumer(world, index, state, partition);
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
        // Odd consumers read through a fetch (many partitions' consume in one call), so it is judged too.
        return index % 2 === 1 ? consumeThroughFetch(deps, request) : domain.consume(deps, request);
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
