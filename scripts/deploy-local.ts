/**
 * `npm run deploy:local`: bootstraps and deploys the CDK app into the embedded cloud that
 * `npm start` runs, and only there. A bare `cdk deploy --require-approval never` typed in a
 * shell that holds real credentials and no AWS_ENDPOINT_URL deploys to the real account
 * without asking; this script sets the local endpoint itself and swaps any real credentials
 * for dummy ones, so nothing it runs can reach AWS.
 *
 *   npm run deploy:local -- --port 4566 [-c sessionTimeoutMs=3000]
 *   npm run deploy:local -- --port 4566 --destroy
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../tools/synth.js';
import { pinToLocalCloud } from './lib/local-deploy-env.js';

const { values: args, positionals } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.LOCALCLOUD_PORT ?? '4566' },
    destroy: { type: 'boolean', default: false },
    context: { type: 'string', short: 'c', multiple: true, default: [] },
  },
  allowPositionals: true,
});
if (positionals.length > 0) fail(`unexpected arguments: ${positionals.join(' ')} (only --port N, -c key=value and --destroy)`);
const port = Number(args.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a port number, got "${args.port}"`);

const endpoint = `http://localhost:${port}`;
pinToLocalCloud(process.env, endpoint);

const answer = await fetch(`${endpoint}/2015-03-31/functions/`).catch(() => undefined);
if (!answer) fail(`nothing answers at ${endpoint}: start the embedded cloud first (npm start -- --port ${port})`);

const contextArgs = args.context.flatMap((pair) => ['-c', pair]);
const steps = args.destroy
  ? [['cdk', 'destroy', '--all', '--force', ...contextArgs]]
  : [
      // No environment named: the account is the local cloud's own, as its STS reports it.
      ['cdklocal', 'bootstrap', ...contextArgs],
      ['cdk', 'deploy', '--all', '--require-approval', 'never', '--outputs-file', join(repoRoot, 'cdk-outputs.json'), ...contextArgs],
    ];
for (const [tool, ...toolArgs] of steps) {
  console.log(`$ ${tool} ${toolArgs.join(' ')}    (at ${endpoint})`);
  const result = spawnSync(join(repoRoot, 'node_modules', '.bin', tool), toolArgs, { cwd: repoRoot, env: process.env, stdio: 'inherit' });
  if (result.status !== 0) fail(`${tool} ${toolArgs[0]} failed (exit ${result.status ?? result.signal})`);
}

function fail(message: string): never {
  console.error(`deploy:local: ${message}`);
  process.exit(2);
}
