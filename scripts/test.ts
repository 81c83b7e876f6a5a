/**
 * `npm test`: the linter and the type checker (scripts/check.ts, the same checks as `npm run
 * lint` and `npm run build`; vitest strips types without checking them) beside the unit,
 * simulation and infra tests (all CPU: together they keep both cores of a CI machine busy,
 * and none of them times anything), then the end-to-end projects one after the other (they
 * share two cores with the data planes), then the live console's browser test (Debian's
 * chromium installed first if missing), then one closing line that totals them: "tests: N
 * passed, N failed, N skipped". Every phase runs even if an earlier one failed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, SYNTH_CACHE_ENV } from '../tools/synth.js';
import { ensureChromium } from './lib/chromium.js';

interface Phase {
  name: string;
  projects: string[];
  /** Installs what the phase needs first (a clean CI machine has no browser). */
  prepare?: () => void;
  /** Runs while scripts/check.ts lints and type-checks; their report follows the phase's. */
  besideChecks?: boolean;
}

const phases: Phase[] = [
  { name: 'unit+infra', projects: ['unit', 'simulation', 'infra'], besideChecks: true },
  { name: 'e2e', projects: ['e2e'] },
  { name: 'e2e-stack', projects: ['e2e-stack'] },
  { name: 'browser', projects: ['browser'], prepare: () => void ensureChromium() },
];

interface JsonReport {
  testResults?: { name: string; status: string; message?: string; assertionResults?: { status: string; fullName: string; failureMessages?: string[] }[] }[];
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}

const resultsDir = join(repoRoot, '.localcloud', 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const childEnv = {
  ...process.env,
  // The SDK warns that releases after January 2027 need Node 22; the lock file pins older ones.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // Files and phases that synthesize the stack with the same context share one synth (tools/synth.ts).
  [SYNTH_CACHE_ENV]: join(repoRoot, '.localcloud', 'test-synth'),
  // CDK's built-in CloudFormation schema check only warns (no feature flag here makes it fail a
  // synth) and no test reads its warnings, yet it took a quarter of every synth; cdk-nag's checks
  // (test/infra/nag.test.ts) are plugins of their own and still run.
  CDK_VALIDATION: 'false',
};
rmSync(childEnv[SYNTH_CACHE_ENV], { recursive: true, force: true });

const extraArgs = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0, failedPhases: [] as string[], failures: [] as string[] };

console.log('\n=== lint + typecheck (beside unit+infra; printed when both are done) ===');
const checks = runQuietly(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join('scripts', 'check.ts')]);

for (const phase of phases) {
  const reportFile = join(resultsDir, `${phase.name}.json`);
  console.log(`\n=== ${phase.name} ===`);
  phase.prepare?.();
  const exitCode = await runVitest([
    'run',
    ...phase.projects.flatMap((project) => ['--project', project]),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...extraArgs,
  ]);
  const report = readReport(reportFile);
  if (report) {
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + report.numTodoTests;
    totals.failures.push(...failuresIn(phase.name, report));
  }
  if (exitCode !== 0 || !report || report.numFailedTests > 0 || report.numFailedTestSuites > 0) totals.failedPhases.push(phase.name);
  if (phase.besideChecks) await reportChecks();
}

// CI shows only the tail of the output: what failed is repeated here, where it is seen.
if (totals.failures.length > 0) console.log(`\n=== failures ===\n${totals.failures.join('\n\n')}`);
if (totals.failedPhases.length > 0) console.log(`\nFailed phases: ${totals.failedPhases.join(', ')}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failedPhases.length > 0 ? 1 : 0);

async function reportChecks(): Promise<void> {
  const { code, output } = await checks;
  console.log('\n=== lint + typecheck ===');
  process.stdout.write(output);
  // 1: lint errors, 2: type errors, 3: both; anything else: the checks did not finish.
  if (code !== 0 && code !== 2) totals.failedPhases.push('lint');
  if (code !== 0 && code !== 1) totals.failedPhases.push('typecheck');
}

function runVitest(args: string[]): Promise<number> {
  return run(join(repoRoot, 'node_modules', '.bin', 'vitest'), args);
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env: childEnv });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs a command with its output kept for later, so that it does not interleave with the phase running meanwhile. */
function runQuietly(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err) => resolve({ code: -1, output: `${output}${String(err)}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), output }));
  });
}

function failuresIn(phase: string, report: JsonReport): string[] {
  const failures: string[] = [];
  for (const file of report.testResults ?? []) {
    const where = file.name.startsWith(repoRoot) ? file.name.slice(repoRoot.length + 1) : file.name;
    const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`[${phase}] ${where} > ${test.fullName}\n${firstLines((test.failureMessages ?? []).join('\n'))}`);
    if (failedTests.length === 0 && file.status === 'failed') failures.push(`[${phase}] ${where}\n${firstLines(file.message ?? '')}`);
  }
  return failures;
}

function firstLines(text: string, count = 12): string {
  return text.split('\n').slice(0, count).map((line) => `  ${line}`).join('\n');
}

function readReport(file: string): JsonReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
  } catch {
    return undefined;
  }
}
