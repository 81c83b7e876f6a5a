/**
 * `npm run sim` as a library: argument parsing (bad input is refused before
 * anything runs), the seed loop, and the report.
 */
import { STORAGE_CHOICES } from './params.js';
import { FAULT_NAMES, DEFAULT_PARAMS, runSimulation, type FaultCounts, type SimOptions, type SimParams, type SimResult } from './run.js';

export interface SimCommand {
  params: SimParams;
  firstSeed: number;
  seeds: number;
  verbose: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE =
  'usage: npm run sim -- [--seeds N] [--seed S] [--brokers 3..5] [--rf 2|3] [--acks all|1] [--unclean] ' +
  '[--min-insync N] [--steps N] [--storage replicated|diskless|mixed] [--groups on|off] [--verbose]';

const VALUE_FLAGS = ['--seeds', '--seed', '--brokers', '--rf', '--acks', '--min-insync', '--steps', '--storage', '--groups'] as const;
const SWITCHES = ['--unclean', '--verbose'] as const;

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`${flag}: expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag}: must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}

/** Throws UsageError naming the flag for anything it does not understand. */
export function parseSimArgs(argv: readonly string[]): SimCommand {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if ((SWITCHES as readonly string[]).includes(flag)) {
      if (inline !== undefined) throw new UsageError(`${flag}: takes no value`);
      switches.add(flag);
    } else if ((VALUE_FLAGS as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag}: missing value`);
      if (values.has(flag)) throw new UsageError(`${flag}: given twice`);
      values.set(flag, value);
    } else {
      throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  const get = (flag: string) => values.get(flag);
  const brokers = get('--brokers') === undefined ? DEFAULT_PARAMS.brokers : integer('--brokers', get('--brokers')!, 3, 5);
  const rf = get('--rf') === undefined ? Math.min(DEFAULT_PARAMS.rf, brokers) : integer('--rf', get('--rf')!, 2, 3);
  if (rf > brokers) throw new UsageError(`--rf: replication factor ${rf} exceeds --brokers ${brokers}`);
  const acksRaw = get('--acks') ?? DEFAULT_PARAMS.acks;
  if (acksRaw !== 'all' && acksRaw !== '1') throw new UsageError(`--acks: expected "all" or "1", got "${acksRaw}"`);
  const minInsync =
    get('--min-insync') === undefined ? Math.min(DEFAULT_PARAMS.minInsync, rf) : integer('--min-insync', get('--min-insync')!, 1, 5);
  if (minInsync > rf) throw new UsageError(`--min-insync: ${minInsync} exceeds the replication factor ${rf}`);
  const steps = get('--steps') === undefined ? DEFAULT_PARAMS.steps : integer('--steps', get('--steps')!, 1, 1_000_000);
  const storageRaw = get('--storage') ?? DEFAULT_PARAMS.storage;
  const storage = STORAGE_CHOICES.find((choice) => choice === storageRaw);
  if (!storage) throw new UsageError(`--storage: expected ${STORAGE_CHOICES.map((c) => `"${c}"`).join(', ')}, got "${storageRaw}"`);
  const groupsRaw = get('--groups') ?? (DEFAULT_PARAMS.groups ? 'on' : 'off');
  if (groupsRaw !== 'on' && groupsRaw !== 'off') throw new UsageError(`--groups: expected "on" or "off", got "${groupsRaw}"`);
  const hasSeed = get('--seed') !== undefined;
  const firstSeed = hasSeed ? integer('--seed', get('--seed')!, 0, 2 ** 32 - 1) : 1;
  const seeds = get('--seeds') === undefined ? (hasSeed ? 1 : 100) : integer('--seeds', get('--seeds')!, 1, 100_000_000);
  return {
    params: { brokers, rf, acks: acksRaw, unclean: switches.has('--unclean'), minInsync, steps, storage, groups: groupsRaw === 'on' },
    firstSeed,
    seeds,
    verbose: switches.has('--verbose'),
  };
}

export const describeParams = (p: SimParams): string =>
  `--brokers ${p.brokers} --rf ${p.rf} --acks ${p.acks}${p.unclean ? ' --unclean' : ''} --min-insync ${p.minInsync} --steps ${p.steps} --storage ${p.storage} --groups ${p.groups ? 'on' : 'off'}`;

export function formatFailure(result: SimResult): string {
  const lines = [`FAIL seed ${result.seed} (replay: npm run sim -- --seed ${result.seed} ${describeParams(result.params)})`];
  const byKind = new Map<string, string[]>();
  for (const v of result.violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), `${v.detail}`]);
  for (const [kind, details] of byKind) {
    lines.push(`  ${kind} (${details.length}):`);
    for (const detail of details.slice(0, 3)) lines.push(`    ${detail}`);
  }
  lines.push(`  ${result.trace.length} scheduler steps:`);
  for (const line of result.trace) lines.push(`    ${line}`);
  return lines.join('\n');
}

export interface SimSummary {
  seeds: number;
  failedSeeds: number[];
  violations: number;
  byKind: Record<string, number>;
  faults: FaultCounts;
  seedsPerSecond: number;
  /** Seeds whose topic was diskless, and their objects: written, orphans (deleted or left unreferenced), deleted. */
  diskless: { seeds: number; written: number; orphans: number; deleted: number };
  /** Over the seeds with a consumer group: generations, commits acknowledged and refused, records processed. */
  group: { generations: number; acked: number; refused: number; processed: number };
}

/** Runs the seeds; `print` gets every line the command shows. */
export async function runSeeds(
  command: SimCommand,
  print: (line: string) => void,
  options: SimOptions = {},
): Promise<SimSummary> {
  const started = performance.now();
  const faults = Object.fromEntries(FAULT_NAMES.map((n) => [n, 0])) as FaultCounts;
  const diskless = { seeds: 0, written: 0, orphans: 0, deleted: 0 };
  const group = { generations: 0, acked: 0, refused: 0, processed: 0 };
  const summary: SimSummary = { seeds: command.seeds, failedSeeds: [], violations: 0, byKind: {}, faults, seedsPerSecond: 0, diskless, group };
  for (let seed = command.firstSeed; seed < command.firstSeed + command.seeds; seed++) {
    // --verbose prints a failing seed's whole trace, not only the steps before its first violation.
    const result = await runSimulation(seed, command.params, { fullTrace: command.verbose, ...options });
    for (const name of FAULT_NAMES) faults[name] += result.faults[name];
    if (result.stats.diskless) {
      diskless.seeds++;
      diskless.written += result.stats.objects.written;
      diskless.orphans += result.stats.objects.orphans;
      diskless.deleted += result.stats.objects.deleted;
    }
    for (const key of ['generations', 'acked', 'refused', 'processed'] as const) group[key] += result.stats.group[key];
    if (command.verbose) {
      print(
        `seed ${seed}: ${result.violations.length} violation(s), ${result.stats.steps} steps, ` +
          `${(result.stats.virtualMs / 1000).toFixed(1)} s virtual, ${result.stats.acks} acks, ${result.stats.reads} reads, ` +
          `${result.stats.healed ? 'healed' : 'NOT quiescent at the heal bound'}`,
      );
    }
    if (result.violations.length > 0) {
      summary.failedSeeds.push(seed);
      summary.violations += result.violations.length;
      for (const v of result.violations) summary.byKind[v.kind] = (summary.byKind[v.kind] ?? 0) + 1;
      print(formatFailure(result));
    }
  }
  summary.seedsPerSecond = command.seeds / ((performance.now() - started) / 1000);
  const faultList = FAULT_NAMES.map((n) => `${n} ${faults[n]}`).join(', ');
  const kinds = Object.entries(summary.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
  print(
    `${summary.seeds} seeds, ${summary.violations} violations${kinds ? ` (${kinds}; failing seeds: ${summary.failedSeeds.length})` : ''}, ` +
      `${summary.seedsPerSecond.toFixed(1)} seeds/s [${describeParams(command.params)}]`,
  );
  print(`faults injected: ${faultList}`);
  print(
    `diskless seeds ${diskless.seeds}: objects written ${diskless.written}, orphans ${diskless.orphans}, ` +
      `deleted by the sweep ${diskless.deleted}`,
  );
  if (command.params.groups) {
    print(
      `group: ${group.generations} generations, commits acknowledged ${group.acked}, refused ${group.refused}, records processed ${group.processed}`,
    );
  }
  return summary;
}
