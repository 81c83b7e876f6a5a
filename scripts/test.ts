/**
 * `npm test`: the linter (`npm run lint`) and the type checker (`npm run build`: tsc over the
 * project and the console page; vitest strips types without checking them), then unit, simulation and infra tests in parallel,
 * then the end-to-end projects one after the other (they share two cores with the data
 * planes), then the live console's browser test (Debian's chromium installed first if
 * missing), then one closing line that totals them: "tests: N passed, N failed, N skipped".
 * Every phase runs even if an earlier one failed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../tools/synth.js';
import { ensureChromium } from './lib/chromium.js';

interface Phase {
  name: string;
  projects: string[];
  /** Installs what the phase needs first (a clean CI machine has no browser). */
  prepare?: () => void;
}

const phases: Phase[] = [
  { name: 'unit+infra', projects: ['unit', 'simulation', 'infra'] },
  { name: 'e2e', projects: ['e2e'] },
  { name: 'e2e-stack', projects: ['e2e-stack'] },
  { name: 'browser', projects: ['browser'], prepare: () => void ensureChromium() },
];

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
}

const resultsDir = join(repoRoot, '.localcloud', 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const extraArgs = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0, failedPhases: [] as string[] };

console.log('\n=== lint ===');
if ((await run(join(repoRoot, 'node_modules', '.bin', 'eslint'), ['.'])) === 0) console.log('lint: no problems');
else totals.failedPhases.push('lint');

console.log('\n=== typecheck ===');
const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
const typecheck = [['-p', 'tsconfig.json', '--noEmit'], ['-p', join('web', 'page'), '--noEmit']];
let typeErrors = false;
for (const args of typecheck) if ((await run(tsc, args)) !== 0) typeErrors = true;
if (typeErrors) totals.failedPhases.push('typecheck');
else console.log('typecheck: no errors');

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
  }
  if (exitCode !== 0 || !report || report.numFailedTests > 0 || report.numFailedTestSuites > 0) totals.failedPhases.push(phase.name);
}

if (totals.failedPhases.length > 0) console.log(`\nFailed phases: ${totals.failedPhases.join(', ')}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failedPhases.length > 0 ? 1 : 0);

function runVitest(args: string[]): Promise<number> {
  return run(join(repoRoot, 'node_modules', '.bin', 'vitest'), args);
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    // The SDK warns that releases after January 2027 need Node 22; the lock file pins older ones.
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function readReport(file: string): JsonReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
  } catch {
    return undefined;
  }
}
