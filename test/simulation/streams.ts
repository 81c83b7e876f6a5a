/**
 * The two stream-triggered functions: the failure detector on the heartbeat stream and
 * replicate on the log stream, each shard delivered by Lambda's event source mapping
 * with its faults (delays, duplicates, redeliveries, outages, retries, the DLQ, twin
 * detectors racing on one batch).
 */
import type { HeartbeatStreamRecord } from '../../functions/adapters/memory/index.js';
import * as domain from '../../functions/domain/index.js';
import { CrashError } from './scheduler.js';
import type { Shard, World } from './world.js';

const MAX_RETRIES = 2;
const MAX_STREAM_DELAY_MS = 5_000;

const shardOf = <R>(shards: Map<string, Shard<R>>, key: string): Shard<R> => {
  let shard = shards.get(key);
  if (!shard) {
    shard = { key, queue: [], busy: false, blockedUntil: 0, outage: 0 };
    shards.set(key, shard);
  }
  return shard;
};

/** Moves what the stores wrote since the last call onto the shards' queues. */
export function drainStores(world: World): void {
  const { heartbeatShards, logShards } = world.streams;
  for (const record of world.memory.brokers.drainStream()) {
    const image = record.eventName === 'INSERT' ? record.newImage : record.oldImage;
    if (record.eventName === 'MODIFY') continue; // the event source mapping filters MODIFY out
    shardOf(heartbeatShards, image.brokerId).queue.push({ record, attempts: 0 });
  }
  for (const record of world.memLog.drainLeaderAppends()) {
    shardOf(logShards, `${record.topic}-${record.partition}`).queue.push({ record, attempts: 0 });
  }
}

export const allShards = (world: World): Array<Shard<unknown>> => [...world.streams.heartbeatShards.values(), ...world.streams.logShards.values()];

async function applyHeartbeatChange(world: World, record: HeartbeatStreamRecord): Promise<void> {
  if (record.eventName === 'INSERT') await domain.onBrokerRegistered(world.deps, record.newImage);
  else if (record.eventName === 'REMOVE') {
    const gone = record.oldImage;
    await domain.onBrokerGone(world.deps, gone, gone.deadlineMs < world.now() ? 'EXPIRED' : 'DEREGISTERED');
  }
}

/** Lambda's stream retry: a failed batch comes back (whole, or from the reported record); after MAX_RETRIES it goes to the DLQ. */
async function dispatch<R>(
  world: World,
  kind: 'detector' | 'replicate',
  shard: Shard<R>,
  maxBatch: number,
  describeRecord: (record: R) => string,
  work: (records: R[], progress: { index: number }) => Promise<unknown>,
): Promise<void> {
  const { scheduler, rng, faults } = world;
  const now = world.now;
  if (shard.busy || shard.queue.length === 0 || shard.blockedUntil > now()) return;
  if (world.faultsOn && rng.chance(0.02)) {
    faults.delay++;
    shard.blockedUntil = now() + rng.between(500, MAX_STREAM_DELAY_MS);
    scheduler.record(`${kind}:${shard.key}`, `DELAYED until +${shard.blockedUntil - now()}ms`);
    return;
  }
  const items = shard.queue.splice(0, maxBatch);
  const records = items.map((item) => item.record);
  if (world.faultsOn && rng.chance(0.03)) {
    faults.duplicate++;
    const i = rng.int(records.length);
    records.splice(i, 0, records[i]);
  }
  if (world.faultsOn && shard.outage === 0 && rng.chance(0.01)) {
    faults.outage++;
    shard.outage = rng.between(1, 4);
  }
  const failing = shard.outage > 0;
  if (failing) shard.outage--;
  shard.busy = true;
  const progress = { index: 0 };
  const name = `${kind}:${shard.key}[${records.map(describeRecord).join(' ')}]`;
  const task = await scheduler.spawn(name, kind, () => work(records, progress), (outcome) => {
    shard.busy = false;
    if (outcome.ok) {
      if (world.faultsOn && rng.chance(0.03)) {
        faults.redeliver++;
        shard.queue.unshift(...items.map((item) => ({ ...item })));
      }
      return;
    }
    // A crashed invocation reports nothing: the whole batch comes back. A handled failure reports
    // its record (the detector) or its partition's first record (replicate): from there on.
    const whole = outcome.error instanceof CrashError || kind === 'replicate';
    const back = whole ? items : items.slice(Math.min(progress.index, items.length - 1));
    const attempts = Math.max(...back.map((item) => item.attempts)) + 1;
    if (attempts > MAX_RETRIES) {
      faults.drop++;
      scheduler.record(name, `DROPPED to the DLQ after ${attempts} attempts`);
      return;
    }
    shard.queue.unshift(...back.map((item) => ({ ...item, attempts })));
    shard.blockedUntil = now() + rng.between(100, 1_000);
  });
  if (failing) world.crashes.once.add(task);
  if (kind === 'detector' && world.faultsOn && rng.chance(0.04)) {
    faults.race++;
    await scheduler.spawn(`${name}#twin`, kind, () => work(records, { index: 0 }));
  }
}

async function pollStreams(world: World): Promise<void> {
  const { rng } = world;
  drainStores(world);
  // Brokers' REMOVEs come on different shards: no order between them is promised, so none is kept.
  const shards = [...world.streams.heartbeatShards.values()];
  for (let i = shards.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shards[i], shards[j]] = [shards[j], shards[i]];
  }
  for (const shard of shards) {
    await dispatch(
      world,
      'detector',
      shard,
      4,
      (r) => `${r.eventName === 'INSERT' ? '+' : '-'}${'newImage' in r ? r.newImage.incarnation % 1000 : r.oldImage.incarnation % 1000}`,
      async (records, progress) => {
        for (const [i, record] of records.entries()) {
          progress.index = i;
          await applyHeartbeatChange(world, record);
        }
      },
    );
  }
  for (const shard of world.streams.logShards.values()) {
    await dispatch(world, 'replicate', shard, 20, (r) => `${r.replica}${r.offset}e${r.leaderEpoch}`, (records) => domain.replicate(world.deps, records));
  }
}

export function schedulePolls(world: World): void {
  world.scheduler.after(world.rng.between(100, 500), 'poll', async () => {
    schedulePolls(world);
    await pollStreams(world);
  });
}
