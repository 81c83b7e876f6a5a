/**
 * CDK entry (cdk.json: `npx tsx infra/app.ts`). Context (-c key=value):
 *   stackName            default "PartitionLeadership"
 *   sessionTimeoutMs     default 9000  (Kafka's broker.session.timeout.ms)
 *   produceAckTimeoutMs  default 10000 (acks=all wait before REQUEST_TIMED_OUT)
 *   produceAckPollMs     default 50    (high-watermark poll interval during that wait)
 *   replicaLagMaxMs      default 30000 (Kafka's replica.lag.time.max.ms: a lagging follower leaves the ISR)
 *   replicateOnProduce   default true  (acks=all copies to the live ISR in the produce itself; false: the log stream alone)
 *   logLevel             default INFO
 */
import { App } from 'aws-cdk-lib';
import { readLeadershipContext } from './context.js';
import { PartitionLeadershipStack } from './stacks/partition-leadership-stack.js';

const app = new App();
const { stackName, settings, logLevel } = readLeadershipContext(app);
// The default synthesizer, BootstrapVersion rule included: what one deploys to AWS is what deploys locally.
new PartitionLeadershipStack(app, stackName, { settings, logLevel });
