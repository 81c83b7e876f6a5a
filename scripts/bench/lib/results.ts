/**
 * Writing a benchmark's JSON (and reading another's, for the plots). Every result starts with
 * where it came from: the command, the commit (and whether the tree had uncommitted changes),
 * the machine and its load when the run started, and when the result was written. A number
 * without these cannot be compared with a later one.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../tools/synth.js';
import { RESULTS_DIR } from './cloud.js';

export interface Machine {
  cpus: number;
  model: string;
  memoryMiB: number;
  node: string;
  /** At the start of the run: other work on the machine slows every number. */
  loadAverage1m: number;
}

/** What a run records before it measures anything. */
export interface RunProvenance {
  command: string;
  commit: { sha: string; dirty: boolean } | 'unknown';
  machine: Machine;
}

/** Call first thing in a benchmark: the load average is the one before the benchmark's own load. */
export function startRun(benchmark: string, argv: readonly string[] = process.argv.slice(2)): RunProvenance {
  return { command: benchCommand(benchmark, argv), commit: gitCommit(), machine: machine() };
}

export function benchCommand(benchmark: string, argv: readonly string[]): string {
  return `npm run bench:${benchmark}${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/**
 * HEAD, and whether anything outside bench-results/ differs from it: during `npm run bench`
 * the earlier benchmarks' fresh results would otherwise mark every later one dirty.
 */
function gitCommit(): RunProvenance['commit'] {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const sha = git('rev-parse', 'HEAD').trim();
    const changes = git('status', '--porcelain', '--', '.', ':(exclude)bench-results');
    return { sha, dirty: changes.trim() !== '' };
  } catch {
    // Not a git checkout (an unpacked archive): say so rather than fail after the run.
    return 'unknown';
  }
}

type BenchResult = { benchmark: string } & Record<string, unknown>;

/** The provenance and the time first, then the benchmark's own fields. */
export function resultDocument(run: RunProvenance, result: BenchResult, at = new Date()): Record<string, unknown> {
  const { benchmark, ...fields } = result;
  return { benchmark, ...run, at: at.toISOString(), ...fields };
}

/** Writes bench-results/<name>.json. */
export function writeResult(name: string, run: RunProvenance, result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(resultDocument(run, result), null, 2)}\n`);
  return file;
}

export function readResult<T>(name: string): T | undefined {
  const file = join(RESULTS_DIR, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

export function writeText(fileName: string, text: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, fileName), text);
}

export const ratio = (value: number, base: number) => Math.round((value / base) * 1000) / 1000;
