/**
 * The heal: faults and new client requests stop, every broker comes back, and the run
 * goes on until it is quiescent (streams drained, no task but heartbeats and sweeps,
 * every lease live, every partition online with its HW at its leader's log end) or a bound passes.
 */
import { reviveBroker } from './brokers.js';
import { afterStep, finalState } from './recording.js';
import { allShards, drainStores } from './streams.js';
import { leaseLive, type World } from './world.js';

const HEAL_LATENCY_MS = 10;

/** Whether the run became quiescent before the bound. */
export async function heal(world: World): Promise<boolean> {
  const { scheduler, brokers } = world;
  const now = world.now;
  world.faultsOn = false;
  world.clientsOn = false;
  world.crashes.once.clear();
  scheduler.unpauseAll();
  scheduler.setMaxLatency(HEAL_LATENCY_MS);
  for (const shard of allShards(world)) {
    shard.outage = 0;
  }
  for (const broker of brokers) {
    if (broker.running) continue;
    // Brokers lost together come back when they would have (a rack's repair does not wait for the heal).
    const generation = broker.generation;
    if (broker.downUntil <= now()) reviveBroker(world, broker);
    else scheduler.at(broker.downUntil, `return-timer:${broker.id}`, () => void (!broker.running && broker.generation === generation && reviveBroker(world, broker)));
  }
  scheduler.record('heal', 'HEAL begins');
  const healEnd = now() + world.timing.sessionTimeoutMs * 4 + 30_000;
  let healed = false;
  while (now() < healEnd) {
    if (scheduler.steps % 16 === 0 && quiescent(world)) {
      healed = true;
      break;
    }
    if (!(await scheduler.step())) break;
    afterStep(world);
  }
  if (!healed) healed = quiescent(world);
  scheduler.record('heal', healed ? 'quiescent' : 'heal bound reached');
  return healed;
}

function quiescent(world: World): boolean {
  drainStores(world);
  const streamsIdle = allShards(world).every((s) => s.queue.length === 0 && !s.busy);
  // The group's members go on through the heal (groups.ts drains the topic after it).
  const busy = world.scheduler.liveTasks().some((t) => t.kind !== 'heartbeat' && t.kind !== 'sweep' && t.kind !== 'group');
  if (!streamsIdle || busy || world.clients.lateOnTheWay > 0) return false;
  const allAlive = world.brokers.every((b) => leaseLive(world, b.id));
  return allAlive && finalState(world).every((p) => p.state === 'ONLINE' && p.highWatermark >= p.leaderLogEnd);
}
