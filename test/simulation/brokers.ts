/**
 * The brokers as actors: they heartbeat on a timer, come back after a death with their
 * old incarnation, and leave through Kafka's controlled shutdown (which may die after its mark).
 */
import * as domain from '../../functions/domain/index.js';
import type { Broker, World } from './world.js';

export async function startHeartbeat(world: World, broker: Broker): Promise<void> {
  if (!broker.running || broker.heartbeating) return;
  broker.heartbeating = true;
  await world.scheduler.spawn(
    `hb:${broker.id}`,
    'heartbeat',
    () => domain.heartbeat(world.deps, { brokerId: broker.id, credential: broker.credential, incarnation: broker.incarnation }),
    (outcome) => {
      broker.heartbeating = false;
      if (outcome.ok) broker.incarnation = outcome.value.incarnation;
    },
  );
}

export function scheduleHeartbeats(world: World, broker: Broker, delay: number): void {
  const { scheduler, rng } = world;
  const heartbeatMs = world.timing.heartbeatMs;
  const generation = broker.generation;
  scheduler.after(delay, `hb-timer:${broker.id}`, async () => {
    if (!broker.running || broker.generation !== generation) return;
    scheduleHeartbeats(world, broker, heartbeatMs + rng.between(-heartbeatMs / 5, heartbeatMs / 5));
    await startHeartbeat(world, broker);
  });
}

export function reviveBroker(world: World, broker: Broker): void {
  broker.running = true;
  broker.generation++;
  world.scheduler.record(`broker:${broker.id}`, `RETURNS (heartbeats with old incarnation ${broker.incarnation ?? '-'})`);
  scheduleHeartbeats(world, broker, 0);
}

/**
 * Kafka's controlled shutdown: the broker keeps heartbeating while the controller moves its
 * leaderships and ISR places away, then stops; if the shutdown fails (a crash), it stops anyway.
 */
export function controlledShutdownOf(world: World, broker: Broker, incarnation: number): void {
  const { scheduler } = world;
  world.faults.shutdown++;
  broker.shuttingDown = true;
  scheduler.record(`broker:${broker.id}`, `CONTROLLED SHUTDOWN begins (incarnation ${incarnation % 1000})`);
  scheduler.after(0, `shutdown-timer:${broker.id}`, async () => {
    await scheduler.spawn(
      `shutdown:${broker.id}`,
      'shutdown',
      () => domain.controlledShutdown(world.deps, { brokerId: broker.id, incarnation, credential: broker.credential }),
      (outcome) => {
        broker.shuttingDown = false;
        broker.running = false;
        broker.generation++;
        const detail = outcome.ok
          ? `moved [${outcome.value.movedLeaderships.join(' ')}] left [${outcome.value.leftIsrs.join(' ')}] ` +
            `kept [${outcome.value.remainingLeaderships.join(' ')}]`
          : `failed (${outcome.error instanceof Error ? outcome.error.name : 'error'})`;
        scheduler.record(`broker:${broker.id}`, `SHUT DOWN ${detail}`);
        // A shutdown that ends during the heal: the broker comes back like every other.
        if (!world.faultsOn) reviveBroker(world, broker);
      },
    );
  });
}

/**
 * A controlled shutdown whose Lambda dies right after marking the broker, which does not
 * stop: it goes on leading what it led and heartbeating (its renewals carry the mark).
 */
export function abandonedShutdownOf(world: World, broker: Broker, incarnation: number): void {
  const { scheduler } = world;
  world.faults.abandon++;
  scheduler.record(`broker:${broker.id}`, `CONTROLLED SHUTDOWN begins, to be abandoned after the mark (incarnation ${incarnation % 1000})`);
  scheduler.after(0, `shutdown-timer:${broker.id}`, async () => {
    const task = await scheduler.spawn(`shutdown:${broker.id}`, 'shutdown', () =>
      domain.controlledShutdown(world.deps, { brokerId: broker.id, incarnation, credential: broker.credential }),
    );
    world.crashes.abandonAfterMark.set(task, false);
  });
}
