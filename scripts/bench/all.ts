/** `npm run bench`: every benchmark, one after the other (they would fight over moto otherwise). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../tools/synth.js';

let failed = false;
for (const script of ['runtime.ts', 'failover.ts']) {
  console.log(`\n=== bench: ${script} ===`);
  const result = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'bench', script), ...process.argv.slice(2)], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
