/**
 * Reads the benchmark results the planner draws from (cost.json, and throughput.json and
 * latency.json when present) out of a bench-results folder.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurementsFrom, PlanUnavailableError, type Measurements } from './plan.js';

export const DEFAULT_BENCH_RESULTS_DIR = fileURLToPath(new URL('../bench-results/', import.meta.url));

export async function readMeasurements(dir: string = DEFAULT_BENCH_RESULTS_DIR): Promise<Measurements> {
  const cost = await readJson(dir, 'cost.json', 'npm run bench:cost');
  if (cost === undefined) throw new PlanUnavailableError(`no cost.json in ${dir}: run \`npm run bench:cost\` first`);
  const [throughput, latency] = await Promise.all([readJson(dir, 'throughput.json', 'npm run bench:throughput'), readJson(dir, 'latency.json', 'npm run bench:latency')]);
  return measurementsFrom({ cost, throughput, latency });
}

async function readJson(dir: string, file: string, command: string): Promise<unknown> {
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
    throw new PlanUnavailableError(`${join(dir, file)} is not JSON (${(error as Error).message}): run \`${command}\` again`);
  }
}
