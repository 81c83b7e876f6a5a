/**
 * The controller's activities (controlled shutdowns, preferred elections, fenced clients)
 * happen in the simulation, and KIP-320 position validation finds truncation exactly where
 * it may exist: only after unclean elections.
 */
import { expect, test } from 'vitest';
import { DEFAULT_PARAMS, runSimulation, type SimParams } from './run.js';

async function totals(params: SimParams, seeds: number) {
  const sum = { shutdown: 0, elect: 0, rebalance: 0, fenced: 0, truncations: 0, violations: 0 };
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await runSimulation(seed, params);
    sum.shutdown += result.faults.shutdown;
    sum.elect += result.faults.elect;
    sum.rebalance += result.faults.rebalance;
    sum.fenced += result.faults.fenced;
    sum.truncations += result.stats.truncations;
    sum.violations += result.violations.length;
  }
  return sum;
}

test('controlled shutdowns, preferred elections and fenced clients run, and no clean run truncates a consumer', async () => {
  const sum = await totals(DEFAULT_PARAMS, 100);
  expect(sum.violations).toBe(0);
  expect(sum.shutdown).toBeGreaterThan(0);
  expect(sum.elect).toBeGreaterThan(0);
  expect(sum.rebalance).toBeGreaterThan(0);
  expect(sum.fenced).toBeGreaterThan(0);
  expect(sum.truncations).toBe(0);
}, 120_000);

test('with unclean elections allowed, consumers detect truncation through OffsetsForLeaderEpoch', async () => {
  // A rare interleaving (a consumer positioned past what an unclean election kept): searched
  // for, up to a bound, rather than expected in a fixed number of seeds that every change to
  // the simulation's draws reshuffles.
  // Seeds that had one when the search last ran are tried first: usually one run instead of a
  // thousand; after a change that reshuffles the draws, the search finds another.
  // Without a group, as the seeds below were found.
  const params: SimParams = { ...DEFAULT_PARAMS, storage: 'replicated', acks: '1', unclean: true, minInsync: 1, groups: false };
  const lastFound = [1099, 2679, 2796];
  let firstSeed: number | undefined;
  for (const seed of [...lastFound, ...Array.from({ length: 3_000 }, (_, i) => i + 1)]) {
    if ((await runSimulation(seed, params)).stats.truncations > 0) {
      firstSeed = seed;
      break;
    }
  }
  expect(firstSeed, 'no seed up to 3,000 had a consumer detect a truncation').toBeDefined();
}, 300_000);
