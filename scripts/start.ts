/**
 * `npm start`: synthesizes the CDK app, brings up the embedded cloud on :4566, deploys
 * the stack from cdk.out, plays the seed scenario (unless --no-demo) and stays up until
 * Ctrl-C, which stops everything it started.
 *
 *   npm start -- --no-demo --port 4566 --session-timeout-ms 9000 --heartbeat-interval-ms 2000 --ttl-period-ms 1000 --console-port 4580
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { startLocalCloud } from '../localcloud/index.js';
import { asLeadershipOutputs } from '../client/stack-outputs.js';
import { repoRoot, synthesize } from '../tools/synth.js';
import { formatTable } from './lib/format.js';
import { playSeedScenario } from './lib/seed-demo.js';
import { useDummyCredentialsIfUnset } from '../tools/local-env.js';
import { startConsoleServer } from '../web/server.js';

useDummyCredentialsIfUnset();
const stackName = 'PartitionLeadership';
const { values: args } = parseArgs({
  options: {
    'no-demo': { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.LOCALCLOUD_PORT ?? '4566' },
    'session-timeout-ms': { type: 'string', default: '9000' },
    'heartbeat-interval-ms': { type: 'string', default: '2000' },
    'ttl-period-ms': { type: 'string', default: '1000' },
    verbose: { type: 'boolean', default: false },
    'console-port': { type: 'string', default: '4580' },
    'console-host': { type: 'string', default: '127.0.0.1' },
  },
});

const port = positiveInteger('port', args.port);
const sessionTimeoutMs = positiveInteger('session-timeout-ms', args['session-timeout-ms']);
const heartbeatIntervalMs = positiveInteger('heartbeat-interval-ms', args['heartbeat-interval-ms']);
const ttlPeriodMs = positiveInteger('ttl-period-ms', args['ttl-period-ms'], { allowZero: true });
if (heartbeatIntervalMs >= sessionTimeoutMs) fail(`--heartbeat-interval-ms (${heartbeatIntervalMs}) must be below --session-timeout-ms (${sessionTimeoutMs})`);

const startedAt = Date.now();
const step = (message: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${message}`);

step(`Synthesizing the CDK app (session timeout ${sessionTimeoutMs} ms) into cdk.out ...`);
const assemblyDir = join(repoRoot, 'cdk.out');
await synthesize({ outdir: assemblyDir, context: { stackName, sessionTimeoutMs } });

step(`Starting the embedded cloud on http://localhost:${port} and deploying cdk.out as CloudFormation stack ${stackName} ...`);
const cloud = await startLocalCloud({
  port,
  assemblyDir,
  ttlPeriodMs,
  outputsFile: join(repoRoot, 'cdk-outputs.json'),
  logSink: args.verbose ? (line: string) => console.log(`  | ${line}`) : undefined,
}).catch((error: unknown) =>
  // Java missing or too old, moto_server missing, a port taken: the message says what to do.
  fail(error instanceof Error ? error.message : String(error)),
);

let demo: Awaited<ReturnType<typeof playSeedScenario>> | undefined;
const live: { console?: Awaited<ReturnType<typeof startConsoleServer>> } = {};
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the embedded cloud ...`);
  await live.console?.stop().catch(() => undefined);
  await demo?.stop().catch(() => undefined);
  await cloud.stop();
  console.log('Stopped. Nothing is left listening.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const stack = cloud.stacks.find((deployed) => deployed.stackName === stackName);
const outputs = asLeadershipOutputs(stackName, stack?.outputs);
step('Deployed. Running:');
console.log(
  formatTable(
    Object.entries(outputs)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [key, value]),
  ),
);
console.log(`  TTL reaper period  ${ttlPeriodMs === 0 ? 'off' : `${ttlPeriodMs} ms`}`);

if (!args['no-demo']) {
  demo = await playSeedScenario({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs, log: step });
}

// After the demo: it reads the leadership-event queue itself, and the console would take its events.
live.console = await startConsoleServer({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs, host: args['console-host'], port: positiveInteger('console-port', args['console-port'], { allowZero: true }), simulator: demo?.simulator })
  .catch(async (error: unknown) => {
    console.error(`npm start: the live console could not start on port ${args['console-port']} (--console-port N picks another): ${(error as Error).message}`);
    await demo?.stop().catch(() => undefined);
    await cloud.stop();
    process.exit(2);
  });
step(`Live console (brokers, partitions, failovers as they happen): ${live.console.url}`);

console.log(`
The cloud stays up until Ctrl-C. Try it with the AWS CLI (any credentials do):

  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url http://localhost:${port} lambda list-functions --query 'Functions[].FunctionName'
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.RegisterBrokerFunctionName} --payload '{"brokerId":"E"}' out.json && cat out.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.HeartbeatFunctionName} --payload '{"brokerId":"E","credential":"'$(jq -r .credential out.json)'"}' out.json && cat out.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.DescribeFunctionName} --payload '{}' out.json && cat out.json
  aws --endpoint-url http://localhost:${port} lambda invoke --function-name ${outputs.ConsumeFunctionName} --payload '{"topic":"orders","partition":1}' out.json && cat out.json

(awscli v2 needs --cli-binary-format raw-in-base64-out before --payload.)

The stack is a CloudFormation stack of this cloud: redeploy a change with the CDK CLI, as
to LocalStack (the next invocation runs the new code; no restart):

  export AWS_ENDPOINT_URL=http://localhost:${port} AWS_ENDPOINT_URL_S3=http://localhost:${port}
  npx cdklocal bootstrap                                   # once per start of the cloud
  npx cdk deploy ${stackName} --require-approval never${sessionTimeoutMs === 9000 ? '' : ` -c sessionTimeoutMs=${sessionTimeoutMs}`}
  aws --endpoint-url http://localhost:${port} logs filter-log-events --log-group-name /aws/lambda/${outputs.HeartbeatFunctionName}
  npx cdk destroy ${stackName} --force

Or with the project's CLI (npm run cli -- --help):

  npm run cli -- brokers run --broker E --broker F     # in another terminal: brokers heartbeating until Ctrl-C
  npm run cli -- topics create --topic payments --partitions 2 --replication-factor 2
  npm run cli -- topics describe
  printf 'k1:hello\\nk2:world\\n' | npm run cli -- produce --topic payments --partition 1 --key-separator :
  npm run cli -- consume --topic payments --partition 1 --offset 0
`);

function positiveInteger(name: string, raw: string | undefined, options: { allowZero?: boolean } = {}): number {
  const value = Number(raw);
  const min = options.allowZero ? 0 : 1;
  if (!Number.isInteger(value) || value < min) fail(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(2);
}
