/**
 * CDK entry (cdk.json: `npx tsx infra/app.ts`). Context (-c key=value):
 *   stackName            default "PartitionLeadership"
 *   sessionTimeoutMs     default 9000  (Kafka's broker.session.timeout.ms)
 *   produceAckTimeoutMs  default 10000 (acks=all wait before REQUEST_TIMED_OUT)
 *   produceAckPollMs     default 50    (high-watermark poll interval during that wait)
 *   replicaLagMaxMs      default 30000 (Kafka's replica.lag.time.max.ms: a lagging follower leaves the ISR)
 *   replicateOnProduce   default true  (acks=all copies to the live ISR in the produce itself; false: the log stream alone)
 *   eligibleLeaderReplicasEnabled default true (KIP-966 eligible leader replicas; false: Kafka before 3.7)
 *   logLevel             default INFO
 *   retainData           default true  (Log and Metadata tables and the log groups kept on stack deletion,
 *                                       tables with deletion protection; false for throwaway stacks)
 *   logRetentionDays     default 30    (each function's log group)
 *   heartbeatReservedConcurrency        default 20   ("none": the account's shared pool)
 *   failureDetectorReservedConcurrency  default 10   ("none": the account's shared pool)
 *   produceReservedConcurrency          default none (a number caps Produce, and reserves that many)
 *   nag                  default false (true: cdk-nag's AwsSolutions checks run at synth, and a finding fails it)
 * docs/security.md explains the trust model behind these.
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
