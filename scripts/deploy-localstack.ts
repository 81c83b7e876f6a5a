/**
 * `npm run deploy:localstack`: cdklocal bootstrap + deploy of the stack to a running
 * LocalStack (or anything that speaks AWS at AWS_ENDPOINT_URL), writing the outputs to
 * cdk-outputs.json, where the end-to-end tests read them:
 *
 *   AWS_ENDPOINT_URL=http://localhost:4566 npm run deploy:localstack
 *   AWS_ENDPOINT_URL=http://localhost:4566 npm test
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './lib/synth.js';

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  console.error('deploy:localstack: set AWS_ENDPOINT_URL to the LocalStack edge, e.g. AWS_ENDPOINT_URL=http://localhost:4566');
  process.exit(2);
}
const account = process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000';
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const env = {
  ...process.env,
  AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3 ?? endpoint,
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  AWS_REGION: region,
  CDK_DISABLE_VERSION_CHECK: 'true',
};
const cdklocal = join(repoRoot, 'node_modules', '.bin', 'cdklocal');
const context = process.argv.slice(2);

for (const args of [
  ['bootstrap', `aws://${account}/${region}`, ...context],
  ['deploy', '--require-approval', 'never', '--outputs-file', join(repoRoot, 'cdk-outputs.json'), ...context],
]) {
  console.log(`$ cdklocal ${args.join(' ')}`);
  const result = spawnSync(cdklocal, args, { cwd: repoRoot, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
console.log('Deployed. Outputs in cdk-outputs.json; run the end-to-end tests against it with: AWS_ENDPOINT_URL=' + endpoint + ' npm test');
