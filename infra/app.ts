/**
 * CDK entry (cdk.json: `npx tsx infra/app.ts`). Context (-c key=value): every key, its
 * default and its validation are in infra/context.ts (readLeadershipContext); docs/deploy.md
 * explains them, and docs/security.md the trust model behind the security-related ones.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readLeadershipContext } from './context.js';
import { PartitionLeadershipStack } from './stacks/partition-leadership-stack.js';

const app = new App();
const { stackName, ...context } = readLeadershipContext(app);
// The default synthesizer, BootstrapVersion rule included: what one deploys to AWS is what deploys locally.
new PartitionLeadershipStack(app, stackName, context);
// Opt-in here (test/infra/nag.test.ts is the gate that always runs): a finding fails the
// synth, and every deploy path (npm start, the e2e tests) synthesizes through this file.
if (app.node.tryGetContext('nag') === true || app.node.tryGetContext('nag') === 'true') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
