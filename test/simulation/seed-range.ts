/** Shared by the seed-range test files: run a range of seeds and describe every failing one. */
import { describeParams } from './cli.js';
import { DEFAULT_PARAMS, runSimulation, type SimOptions, type SimParams } from './run.js';
import type { Violation } from './history.js';

export interface RangeOutcome {
  failures: string[];
  violations: Array<Violation & { seed: number }>;
}

export async function runSeedRange(
  first: number,
  count: number,
  params: SimParams = DEFAULT_PARAMS,
  options: SimOptions = {},
): Promise<RangeOutcome> {
  const outcome: RangeOutcome = { failures: [], violations: [] };
  for (let seed = first; seed < first + count; seed++) {
    const result = await runSimulation(seed, params, options);
    for (const v of result.violations) outcome.violations.push({ ...v, seed });
    if (result.violations.length > 0) {
      const kinds = [...new Set(result.violations.map((v) => v.kind))].join(', ');
      outcome.failures.push(
        `seed ${seed} (${kinds}): ${result.violations[0].detail} — replay: npm run sim -- --seed ${seed} ${describeParams(params)}`,
      );
    }
  }
  return outcome;
}

/**
 * The first seed, from 1 up to `maxSeeds`, whose run has a violation `wanted` accepts: for
 * detection tests, which must not pin a seed that any change to the simulation's draws
 * reshuffles. Stops at the first one found.
 */
export async function firstSeedWith(
  wanted: (violation: Violation) => boolean,
  maxSeeds: number,
  params: SimParams = DEFAULT_PARAMS,
  options: SimOptions = {},
): Promise<number | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    if ((await runSimulation(seed, params, options)).violations.some(wanted)) return seed;
  }
  return undefined;
}
