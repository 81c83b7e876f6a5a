/**
 * Before the faults: an admin registers the brokers' credentials, the brokers register
 * their leases, and the topic is created (its creation sometimes cut short); then every
 * actor and schedule starts.
 */
import * as domain from '../../functions/domain/index.js';
import type { BrokerId } from '../../functions/domain/model.js';
import { scheduleHeartbeats, startHeartbeat } from './brokers.js';
import { scheduleConsumers } from './consumers.js';
import { scheduleController } from './controller.js';
import { GROUP_ID, scheduleGroup } from './groups.js';
import { TOPIC } from './params.js';
import { scheduleProducers } from './producers.js';
import { schedulePolls } from './streams.js';
import type { World } from './world.js';

/** Chance that setup's topic creation dies between two of its transactions. */
const CUT_CREATION_CHANCE = 0.3;

/** Registration, leases and the topic, with no faults; every task run to its end. */
export async function setUpCluster(world: World): Promise<void> {
  const { scheduler, rng, deps, brokers, params } = world;
  const runToIdle = async (): Promise<void> => {
    while (!scheduler.idle()) await scheduler.step();
  };
  world.faultsOn = false;
  const registered = new Set<BrokerId>();
  for (const broker of brokers) {
    await scheduler.spawn(
      `register:${broker.id}`,
      'setup',
      () => domain.registerBroker(deps, { brokerId: broker.id, credential: broker.credential }),
      (outcome) => outcome.ok && registered.add(broker.id),
    );
  }
  await runToIdle();
  if (registered.size !== brokers.length) throw new Error(`setup: only ${[...registered].join(', ')} of the brokers were registered`);
  for (const broker of brokers) await startHeartbeat(world, broker);
  await runToIdle();
  const partitionCount = world.partitions.length;
  const createTopicRequest = {
    topic: TOPIC,
    partitions: partitionCount,
    replicationFactor: params.rf,
    minInsyncReplicas: params.minInsync,
    uncleanLeaderElection: params.unclean,
    storage: world.diskless ? ('diskless' as const) : ('replicated' as const),
  };
  // A topic of several transactions (more than one partition) may be cut short between two of
  // them; then either the admin retries at once or the creation is left to the reconciler,
  // and producers find the topic unknown until it is finished.
  if (partitionCount > 1 && rng.chance(CUT_CREATION_CHANCE)) world.crashes.cutCreationAt = rng.between(2, partitionCount);
  let created = false;
  await scheduler.spawn('create-topic', 'setup', () => domain.createTopic(deps, createTopicRequest), (outcome) => (created = outcome.ok));
  await runToIdle();
  world.crashes.cutCreationAt = undefined;
  if (!created && rng.chance(0.5)) {
    await scheduler.spawn('create-topic-retry', 'setup', () => domain.createTopic(deps, createTopicRequest));
    await runToIdle();
  }
  // The group's first FindCoordinator creates the offsets topic; done here, the group starts with a coordinator to find.
  if (world.group) {
    await scheduler.spawn('offsets-topic', 'setup', () => domain.findCoordinator(world.group!.deps, { groupId: GROUP_ID }));
    await runToIdle();
  }
  world.faultsOn = true;
}

/** Every actor's first timer, in a fixed order (each draws from the PRNG). */
export function startActors(world: World): void {
  for (const broker of world.brokers) scheduleHeartbeats(world, broker, world.rng.between(0, world.timing.heartbeatMs));
  schedulePolls(world);
  scheduleController(world);
  scheduleProducers(world);
  scheduleConsumers(world);
  scheduleGroup(world);
}
