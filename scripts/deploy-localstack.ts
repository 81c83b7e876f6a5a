/**
 * `npm run deploy:localstack`: cdklocal bootstrap + deploy of the stack to a running
 * LocalStack (or anything that speaks AWS at AWS_ENDPOINT_URL), writing the outputs to
 * cdk-outputs.json, where the end-to-end tests read them:
 *
 *   AWS_ENDPOINT_URL=http://localhost:4566 npm run deploy:localstack [-- -c sessionTimeoutMs=3000]
 *   AWS_ENDPOINT_URL=http://localhost:4566 npm test
 */
import { join } from 'node:path';
import { deployWithCdkLocal } from '../tools/cdklocal.js';
import { repoRoot } from '../tools/synth.js';

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  console.error('deploy:localstack: set AWS_ENDPOINT_URL to the LocalStack edge, e.g. AWS_ENDPOINT_URL=http://localhost:4566');
  process.exit(2);
}
deployWithCdkLocal({ endpoint, outputsFile: join(repoRoot, 'cdk-outputs.json'), extraArgs: process.argv.slice(2) });
console.log(`Deployed. Outputs in cdk-outputs.json; run the end-to-end tests against it with: AWS_ENDPOINT_URL=${endpoint} npm test`);
