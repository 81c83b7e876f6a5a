/**
 * Reads the benchmark results the planner draws from out of a bench-results folder:
 * cost.json, which it cannot do without, and throughput.json and latency.json, which it
 * plans without (saying so) when they are missing or unreadable.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyOf, measurementsFrom, PlanUnavailableError, throughputOf, type Measurements } from './plan.js';

export const DEFAULT_BENCH_RESULTS_DIR = fileURLToPath(new URL('../bench-results/', import.meta.url));

export async function readMeasurements(dir: string = DEFAULT_BENCH_RESULTS_DIR): Promise<Measurements> {
  const cost = await readJson(dir, 'cost.json');
  if (cost === undefined) throw new PlanUnavailableError(`no cost.json in ${dir}: run \`npm run bench:cost\` first`);
  const measured = measurementsFrom({ cost });
  const problems: string[] = [];
  const optional = async <T>(file: string, parse: (raw: unknown) => T): Promise<T | undefined> => {
    try {
      const raw = await readJson(dir, file);
      return raw === undefined ? undefined : parse(raw);
    } catch (error) {
      problems.push(`${file} left out: ${(error as Error).message}.`);
      return undefined;
    }
  };
  const [throughput, latency] = await Promise.all([optional('throughput.json', throughputOf), optional('latency.json', latencyOf)]);
  return { ...measured, throughput, latency, problems };
}

async function readJson(dir: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlanUnavailableError(`cannot read ${join(dir, file)}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlanUnavailableError(`${join(dir, file)} is not JSON (${(error as Error).message})`);
  }
}
