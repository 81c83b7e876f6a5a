/**
 * `npm run bench`: every benchmark, one after the other (each on its own embedded cloud;
 * together they would fight over the data plane), then the plots.
 *
 *   npm run bench              # the full set (~15 min on a 2-core machine)
 *   npm run bench -- --quick   # smaller runs of each, to check the scripts (~5 min)
 *   npm run bench -- --only throughput,scale   # a subset (names as below)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../tools/synth.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = args.quick;
const benches: Array<{ name: string; script: string; args: string[] }> = [
  { name: 'runtime', script: 'runtime.ts', args: quick ? ['--invocations', '300', '--stream-writes', '50', '--data-plane-puts', '300'] : [] },
  { name: 'failover', script: 'failover.ts', args: quick ? ['--iterations', '3'] : [] },
  { name: 'throughput', script: 'throughput.ts', args: quick ? ['--quick'] : [] },
  { name: 'latency', script: 'latency.ts', args: quick ? ['--quick'] : [] },
  { name: 'scale', script: 'scale.ts', args: quick ? ['--quick'] : [] },
  { name: 'clients', script: 'clients.ts', args: quick ? ['--quick'] : [] },
  { name: 'cost', script: 'cost.ts', args: quick ? ['--quick'] : [] },
  { name: 'groups', script: 'groups.ts', args: quick ? ['--quick'] : [] },
];
const only = args.only?.split(',');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const outcomes: string[] = [];
let failed = false;
for (const bench of benches.filter((b) => !only || only.includes(b.name))) {
  console.log(`\n=== bench: ${bench.name} ===`);
  const started = Date.now();
  const result = spawnSync(tsx, [join(repoRoot, 'scripts', 'bench', bench.script), ...bench.args], { cwd: repoRoot, stdio: 'inherit' });
  outcomes.push(`${bench.name}: ${result.status === 0 ? 'ok' : `FAILED (${result.status ?? result.signal})`} in ${Math.round((Date.now() - started) / 1000)} s`);
  failed ||= result.status !== 0;
}
spawnSync(tsx, [join(repoRoot, 'scripts', 'bench', 'plot.ts')], { cwd: repoRoot, stdio: 'inherit' });
console.log(`\n${outcomes.join('\n')}`);
process.exit(failed ? 1 : 0);
