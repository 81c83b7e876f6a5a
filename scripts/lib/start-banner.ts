/**
 * What `npm start` prints once everything is up: how to reach the cloud and the stack with
 * the AWS CLI, the CDK CLI and the project's CLI. Every line a reader may paste into a fresh
 * shell stays on the local endpoint: none of them can reach a real account.
 */
import type { LeadershipStackOutputs } from '../../client/stack-outputs.js';

export interface StartBannerOptions {
  port: number;
  sessionTimeoutMs: number;
  outputs: Pick<LeadershipStackOutputs, 'RegisterBrokerFunctionName' | 'HeartbeatFunctionName' | 'DescribeFunctionName' | 'ConsumeFunctionName'>;
  /** The log group the stack made for Heartbeat (its LoggingConfig), not /aws/lambda/<function>. */
  heartbeatLogGroup: string;
}

export function startBanner({ port, sessionTimeoutMs, outputs, heartbeatLogGroup }: StartBannerOptions): string {
  return `
The cloud stays up until Ctrl-C. Try it with the AWS CLI (any credentials do):

  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://localhost:${port} lambda list-functions --query 'Functions[].FunctionName'
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.RegisterBrokerFunctionName} --payload '{"brokerId":"E"}' out.json && cat out.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.HeartbeatFunctionName} --payload '{"brokerId":"E","credential":"'"$(node -p 'require("./out.json").credential')"'"}' hb.json && cat hb.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.DescribeFunctionName} --payload '{}' out.json && cat out.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.ConsumeFunctionName} --payload '{"topic":"orders","partition":1}' out.json && cat out.json

(awscli v2 needs --cli-binary-format raw-in-base64-out before --payload.)

The stack is a CloudFormation stack of this cloud: redeploy a change with the CDK CLI, as
to LocalStack (the next invocation runs the new code; no restart). The script sets the local
endpoint and dummy credentials itself, so it cannot reach a real account:

  npm run deploy:local -- --port ${port} -c retainData=false${sessionTimeoutMs === 9000 ? '' : ` -c sessionTimeoutMs=${sessionTimeoutMs}`}      # cdklocal bootstrap + cdk deploy, here only
  aws --endpoint-url http://localhost:${port} logs filter-log-events --log-group-name ${heartbeatLogGroup}
  npm run deploy:local -- --port ${port} --destroy

Or with the project's CLI (npm run cli -- --help):

  npm run cli -- brokers run --broker E --broker F     # in another terminal: brokers heartbeating until Ctrl-C
  npm run cli -- topics create --topic payments --partitions 2 --replication-factor 2
  npm run cli -- topics describe
  printf 'k1:hello\\nk2:world\\n' | npm run cli -- produce --topic payments --partition 1 --key-separator :
  npm run cli -- consume --topic payments --partition 1 --offset 0
`;
}
