/**
 * One simulation run: the real domain over the memory stores, driven by the
 * seeded scheduler, with faults, a heal phase, final reads and the checker.
 * A pure function of (seed, params, options). Its parts take the run's World
 * (world.ts): setup.ts, brokers.ts, streams.ts, controller.ts, producers.ts,
 * consumers.ts, faults.ts, heal.ts, recording.ts, trace.ts.
 */
import { check } from './checker.js';
import { injectBrokerFault, installCrashPolicy } from './faults.js';
import { GROUP_SETTINGS, drainGroup } from './groups.js';
import { heal } from './heal.js';
import type { Violation } from './history.js';
import { DEFAULT_TIMING, OBJECT_SWEEP_MS, ORPHAN_AGE_MS, PRODUCER_ID_EXPIRATION_MS, TOPIC, type FaultCounts, type SimOptions, type SimParams, type Timing } from './params.js';
import { afterStep, closeHistory, objectCounts } from './recording.js';
import { setUpCluster, startActors } from './setup.js';
import { traceBefore } from './trace.js';
import { createWorld } from './world.js';

export {
  DEFAULT_PARAMS,
  DEFAULT_TIMING,
  FAULT_NAMES,
  type FaultCounts,
  type FaultName,
  type SimOptions,
  type SimParams,
  type Timing,
} from './params.js';

export interface SimResult {
  seed: number;
  params: SimParams;
  violations: Violation[];
  trace: string[];
  faults: FaultCounts;
  stats: {
    steps: number;
    acks: number;
    reads: number;
    virtualMs: number;
    healed: boolean;
    elections: number;
    /** Consumers that found, through OffsetsForLeaderEpoch, their position truncated away (unclean elections only). */
    truncations: number;
    /** Whether the topic was diskless, and its objects: written, orphans (deleted or left unreferenced), deleted by the sweep. */
    diskless: boolean;
    objects: { written: number; orphans: number; deleted: number };
    /** The consumer group: generations it went through, commits acknowledged and refused, records processed. */
    group: { generations: number; acked: number; refused: number; processed: number };
  };
}

export async function runSimulation(seed: number, params: SimParams, options: SimOptions = {}): Promise<SimResult> {
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const SESSION_TIMEOUT_MS = timing.sessionTimeoutMs;
  // Over the memory stores' defaults (the settings table's): the simulation's own timings.
  const world = createWorld(seed, params, options, timing, {
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    produceAckTimeoutMs: 4_000,
    produceAckPollMs: 100,
    replicaLagMaxMs: SESSION_TIMEOUT_MS * 3,
    producerIdExpirationMs: PRODUCER_ID_EXPIRATION_MS,
    // Mostly the deployed default; every fourth seed leaves replication to the log stream alone, so both paths stay judged.
    replicateOnProduce: seed % 4 !== 0,
    eligibleLeaderReplicasEnabled: options.eligibleLeaderReplicas ?? true,
    // A small orphan age, so the sweep races live and stalled writers; each run looks back two periods.
    disklessOrphanAgeMs: ORPHAN_AGE_MS,
    disklessSweepIntervalSeconds: OBJECT_SWEEP_MS / 1_000,
    ...GROUP_SETTINGS,
    offsetsTopicReplicationFactor: params.rf,
  });
  const { scheduler, rng, history, tables } = world;
  installCrashPolicy(world);

  await setUpCluster(world);
  startActors(world);

  // ---- activity with faults
  const stepsAtStart = scheduler.steps;
  while (scheduler.steps - stepsAtStart < params.steps) {
    if (rng.chance(timing.brokerFaultChance)) injectBrokerFault(world);
    if (!(await scheduler.step())) break;
    afterStep(world);
  }

  const healed = await heal(world);

  closeHistory(world);
  await drainGroup(world);
  const violations = check(history);
  return {
    seed,
    params,
    violations,
    trace: options.fullTrace ? scheduler.trace : traceBefore(scheduler.trace, violations),
    faults: world.faults,
    stats: {
      steps: scheduler.steps,
      acks: history.acks.length,
      reads: history.reads.length,
      virtualMs: world.now() - Date.UTC(2026, 0, 1),
      healed,
      elections: world.partitions.reduce((sum, p) => sum + (tables.partitions.get(`${TOPIC}#${p}`)?.leaderEpoch ?? 0), 0),
      truncations: world.clients.truncations,
      diskless: world.diskless,
      objects: objectCounts(world),
      group: {
        generations: new Set(history.groupAssignments.map((a) => a.generation)).size,
        acked: history.groupCommits.filter((c) => c.outcome === 'acked').length,
        refused: history.groupCommits.filter((c) => c.outcome === 'refused').length,
        processed: history.groupProcessed.length,
      },
    },
  };
}
