/**
 * `npm start`: synthesizes the CDK app, brings up the embedded cloud on :4566, deploys
 * the stack from cdk.out, plays the seed scenario (unless --no-demo) and stays up until
 * Ctrl-C, which stops everything it started.
 *
 *   npm start -- --no-demo --port 4566 --session-timeout-ms 9000 --heartbeat-interval-ms 2000 --ttl-period-ms 1000 --console-port 4580
 *
 * The console stays on loopback: `--console-host` off loopback is refused unless
 * `--console-allow-remote` is given too, and then every request needs the printed token.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { startLocalCloud } from '../localcloud/index.js';
import { asLeadershipOutputs } from '../client/stack-outputs.js';
import { repoRoot, synthesize } from '../tools/synth.js';
import { formatTable } from './lib/format.js';
import { playSeedScenario } from './lib/seed-demo.js';
import { startBanner } from './lib/start-banner.js';
import { useDummyCredentialsIfUnset } from '../tools/local-env.js';
import { isLoopbackHost } from '../web/request-guard.js';
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
    'console-allow-remote': { type: 'boolean', default: false },
  },
});

const consoleHost = args['console-host'];
const consolePort = positiveInteger('console-port', args['console-port'], { allowZero: true });
// First, before anything starts: a refusal after a minute of synth and deploy would be a poor way to learn it.
if (!isLoopbackHost(consoleHost) && !args['console-allow-remote']) {
  fail(`--console-host ${consoleHost} is not a loopback address: anyone who can reach it could kill brokers, create topics and write records. Add --console-allow-remote to serve it anyway, behind a token.`);
}
const port = positiveInteger('port', args.port);
const sessionTimeoutMs = positiveInteger('session-timeout-ms', args['session-timeout-ms']);
const heartbeatIntervalMs = positiveInteger('heartbeat-interval-ms', args['heartbeat-interval-ms']);
const ttlPeriodMs = positiveInteger('ttl-period-ms', args['ttl-period-ms'], { allowZero: true });
if (heartbeatIntervalMs >= sessionTimeoutMs) fail(`--heartbeat-interval-ms (${heartbeatIntervalMs}) must be below --session-timeout-ms (${sessionTimeoutMs})`);

const startedAt = Date.now();
const step = (message: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${message}`);

step(`Synthesizing the CDK app (session timeout ${sessionTimeoutMs} ms) into cdk.out ...`);
const assemblyDir = join(repoRoot, 'cdk.out');
// A demo in an in-memory cloud: its tables go with the stack (`cdk destroy` leaves nothing),
// unlike the default for a real deployment, which keeps the Log and Metadata tables.
const context = { stackName, sessionTimeoutMs, retainData: 'false' };
await synthesize({ outdir: assemblyDir, context });

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
// Each function logs to the log group the stack made for it (its LoggingConfig), not /aws/lambda/<function>.
const heartbeatLogGroup = cloud.runtime.get(outputs.HeartbeatFunctionName)?.logGroup ?? `/aws/lambda/${outputs.HeartbeatFunctionName}`;
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
live.console = await startConsoleServer({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs, host: consoleHost, allowRemote: args['console-allow-remote'], port: consolePort, simulator: demo?.simulator })
  .catch(async (error: unknown) => {
    console.error(`npm start: the live console could not start on port ${consolePort} (--console-port N picks another): ${(error as Error).message}`);
    await demo?.stop().catch(() => undefined);
    await cloud.stop();
    process.exit(2);
  });
step(`Live console (brokers, partitions, failovers as they happen): ${live.console.url}`);
if (live.console.remote) {
  console.warn(`
WARNING: the live console listens on ${consoleHost}, off loopback (--console-allow-remote). Anyone who can
reach that address and has its token can kill, pause and shut down brokers, create topics and
produce records, and the console's traffic is plain HTTP that anyone on the path can read.
Every request needs the token; open the console with the URL above. Token: ${live.console.token}
`);
}

console.log(startBanner({ port, sessionTimeoutMs, outputs, heartbeatLogGroup }));

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
