/**
 * The controller's scheduled functions (the sweep, the reconciler and the automatic
 * preferred-leader rebalance, each on a jittered schedule, one run of each at a time)
 * and an operator's on-demand preferred-leader election.
 */
import * as domain from '../../functions/domain/index.js';
import { OBJECT_SWEEP_MS, RECONCILE_MS, SWEEP_MS, TOPIC } from './params.js';
import { sweepDepsOf } from './stores.js';
import type { TaskKind } from './scheduler.js';
import type { World } from './world.js';

/** The scheduled preferred-leader rebalance (leader.imbalance.check.interval, scaled down like the other timers). */
const REBALANCE_MS = 7_000;

function scheduleRepeating(
  world: World,
  name: string,
  periodMs: number,
  jitterMs: number,
  kind: TaskKind,
  work: () => Promise<unknown>,
  onStart: () => void = () => undefined,
): () => void {
  const { scheduler, rng } = world;
  let running = false;
  const schedule = (): void => {
    scheduler.after(periodMs + rng.between(-jitterMs, jitterMs), `${name}-timer`, async () => {
      schedule();
      if (running) return;
      running = true;
      onStart();
      await scheduler.spawn(name, kind, work, () => (running = false));
    });
  };
  return schedule;
}

/** The diskless orphan sweep's task (faults.ts kills it between its steps now and then). */
export const OBJECT_SWEEP_TASK = 'object-sweep';

/** Starts the three schedules, in this order (each draws its first jitter now), and the object sweep's on a diskless topic. */
export function scheduleController(world: World): void {
  const { deps } = world;
  const scheduleSweep = scheduleRepeating(world, 'sweep', SWEEP_MS, 500, 'sweep', () => domain.sweepExpiredBrokers(deps));
  const scheduleReconcile = scheduleRepeating(world, 'reconcile', RECONCILE_MS, 1_000, 'reconcile', () => domain.reconcile(deps));
  const scheduleRebalance = scheduleRepeating(world, 'rebalance', REBALANCE_MS, 1_000, 'elect', () => domain.autoRebalance(deps), () => {
    world.faults.rebalance++;
  });
  scheduleSweep();
  scheduleReconcile();
  scheduleRebalance();
  if (world.diskless) scheduleObjectSweep(world);
}

/**
 * The diskless orphan sweep, one run at a time. Half its runs go step by step like every
 * other task (so writers interleave with each of its reads, fences and deletes, and it may
 * die between two of them); the other half run whole between two steps of the others, so
 * that an object is judged while its writer is still between two of its own steps.
 */
function scheduleObjectSweep(world: World): void {
  const { scheduler, rng } = world;
  let running = false;
  const schedule = (): void => {
    scheduler.after(OBJECT_SWEEP_MS + rng.between(-OBJECT_SWEEP_MS / 4, OBJECT_SWEEP_MS / 4), `${OBJECT_SWEEP_TASK}-timer`, async () => {
      schedule();
      if (running) return;
      running = true;
      const startedAt = world.now();
      await scheduler.spawn(
        OBJECT_SWEEP_TASK,
        'sweep',
        () => domain.sweepObjects(sweepDepsOf(world.deps, world.options.objectSweep)),
        () => {
          running = false;
          world.objectSweepStarts.push(startedAt);
        },
        { atomic: rng.chance(0.5) },
      );
    });
  };
  schedule();
}

/** An operator's kafka-leader-election: every partition, or some. */
export function electOnDemand(world: World): void {
  const { rng, scheduler } = world;
  world.faults.elect++;
  const some = world.partitions.filter(() => rng.chance(0.5));
  const request = some.length > 0 && rng.chance(0.5) ? { topic: TOPIC, partitions: some } : rng.chance(0.5) ? { topic: TOPIC } : {};
  scheduler.after(0, 'elect-timer', async () => {
    await scheduler.spawn(`elect:${JSON.stringify(request)}`, 'elect', () => domain.electPreferredLeaders(world.deps, request));
  });
}
