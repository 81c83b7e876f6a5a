/**
 * `npm run chaos -- --runs N --seed S [--fault-seconds T]`: N chaos runs (seeds S, S+1, ...),
 * each on a fresh embedded cloud with the stack deployed (run.ts). Prints each run's fault
 * counts and verdict and writes them all to bench-results/chaos.json (after every run, so an
 * interrupted session keeps what it found). Exits 1 if any run found a violation, 2 on bad input.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { useDummyCredentialsIfUnset } from '../../tools/local-env.js';
import { repoRoot, synthesize } from '../../tools/synth.js';
import { ALL_FAULT_KINDS, runChaos, type ChaosRunResult } from './run.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = 'usage: npm run chaos -- [--runs N (1..1000, default 1)] [--seed S (integer >= 0, default 1)] [--fault-seconds T (5..3600, default 45)]';

export interface ChaosCommand {
  runs: number;
  seed: number;
  faultSeconds: number;
}

const FLAGS = { '--runs': [1, 1000], '--seed': [0, 2 ** 31 - 1], '--fault-seconds': [5, 3600] } as const;
type Flag = keyof typeof FLAGS;

/** Throws UsageError naming the flag for anything it does not understand. */
export function parseChaosArgs(argv: readonly string[]): ChaosCommand {
  const values = new Map<Flag, number>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (!(flag in FLAGS)) throw new UsageError(`unknown argument "${arg}"`);
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || raw === '' || (eq < 0 && raw.startsWith('--'))) throw new UsageError(`${flag}: missing value`);
    if (values.has(flag as Flag)) throw new UsageError(`${flag}: given twice`);
    const [min, max] = FLAGS[flag as Flag];
    if (!/^\d+$/.test(raw)) throw new UsageError(`${flag}: expected an integer, got "${raw}"`);
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${flag}: must be between ${min} and ${max}, got ${raw}`);
    values.set(flag as Flag, value);
  }
  return { runs: values.get('--runs') ?? 1, seed: values.get('--seed') ?? 1, faultSeconds: values.get('--fault-seconds') ?? 45 };
}

/** The stack's session timeout in the chaos assembly: the e2e stack's, so a failover takes seconds. */
export const CHAOS_SESSION_TIMEOUT_MS = 6000;
const STACK_NAME = 'PartitionLeadershipChaos';

export async function main(argv: readonly string[]): Promise<number> {
  let command: ChaosCommand;
  try {
    command = parseChaosArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`npm run chaos: ${error.message}\n${USAGE}`);
    return 2;
  }
  useDummyCredentialsIfUnset();
  const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.chaos');
  mkdirSync(assemblyDir, { recursive: true });
  await synthesize({ outdir: assemblyDir, context: { stackName: STACK_NAME, sessionTimeoutMs: CHAOS_SESSION_TIMEOUT_MS, produceAckTimeoutMs: 15000 } });
  const report = {
    command: `npm run chaos -- ${argv.join(' ')}`.trim(),
    commit: gitCommit(),
    machine: { node: process.version, cpus: os.cpus().length, loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100 },
    startedAt: new Date().toISOString(),
    settings: { sessionTimeoutMs: CHAOS_SESSION_TIMEOUT_MS, faultSeconds: command.faultSeconds, brokers: 3, partitions: 3, replicationFactor: 3, minInsyncReplicas: 2, producers: 2, acks: 'all', idempotent: true },
    runs: [] as Array<ChaosRunResult | { seed: number; verdict: 'error'; error: string }>,
    totals: {} as Record<string, unknown>,
  };
  for (let i = 0; i < command.runs; i += 1) {
    const seed = command.seed + i;
    try {
      const result = await runChaos({
        seed,
        assemblyDir,
        stackName: STACK_NAME,
        sessionTimeoutMs: CHAOS_SESSION_TIMEOUT_MS,
        faultPhaseMs: command.faultSeconds * 1000,
        log: (line) => console.log(`  ${line}`),
      });
      report.runs.push(result);
      printRun(result);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      report.runs.push({ seed, verdict: 'error', error: message });
      console.log(`seed ${seed}: the run itself failed: ${message}`);
    }
    report.totals = totals(report.runs);
    writeReport(report);
  }
  const failed = report.runs.filter((run) => run.verdict !== 'ok').length;
  console.log(`\nchaos: ${report.runs.length} runs, ${failed} with violations or errors; bench-results/chaos.json`);
  return failed > 0 ? 1 : 0;
}

function totals(runs: Array<ChaosRunResult | { verdict: 'error' }>) {
  const completed = runs.filter((run): run is ChaosRunResult => run.verdict !== 'error');
  const faults = Object.fromEntries(ALL_FAULT_KINDS.map((kind) => [kind, completed.reduce((sum, run) => sum + run.faults[kind], 0)]));
  const violationsByKind: Record<string, number> = {};
  for (const run of completed) for (const violation of run.violations) violationsByKind[violation.kind] = (violationsByKind[violation.kind] ?? 0) + 1;
  return {
    runs: runs.length,
    ok: completed.filter((run) => run.verdict === 'ok').length,
    withViolations: completed.filter((run) => run.verdict === 'violations').length,
    errors: runs.length - completed.length,
    faults,
    violationsByKind,
    batchesAcked: completed.reduce((sum, run) => sum + run.batchesAcked, 0),
  };
}

function printRun(result: ChaosRunResult): void {
  const faults = Object.entries(result.faults)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  console.log(
    `seed ${result.seed}: ${result.verdict} in ${Math.round(result.durationMs / 1000)} s; ${result.batchesAcked}/${result.batchesSent} batches acked, ` +
      `${result.finalRecords} records in the final logs, heal ${result.healMs === undefined ? 'NOT within the bound' : `${result.healMs} ms`}; faults: ${faults}`,
  );
  for (const violation of result.violations) console.log(`  VIOLATION ${violation.kind} ${violation.partition}: ${violation.detail}`);
}

function writeReport(report: unknown): void {
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
