/**
 * `npm run bench:runtime`: what the embedded Lambda runtime costs.
 *
 * 1. Warm invoke overhead: round trip minus the handler's own duration, for a trivial
 *    handler, measured three ways: through the edge with the SDK (what clients see),
 *    through the edge with bare keep-alive HTTP (the edge alone), and in-process
 *    (the worker hop alone). Target: SDK p50 < 5 ms.
 * 2. Stream delivery: from a PutItem into a table with a stream to the handler receiving
 *    the record through the event source mapping. Target: p99 < 500 ms.
 * 3. The data plane's raw rates through the edge (what the functions reach): PutItem/s
 *    sequential and with 16 in flight, and contended conditional TransactWriteItems/s
 *    (8 clients appending to one counter). Every other ratio is bounded by these.
 *
 * It runs no records and no stack: its `cost` is what AWS would bill per invocation of the
 * trivial function (request, billed duration, logs) over part 1's invocations (lib/cost.ts).
 *
 * Writes bench-results/runtime.json and prints it.
 *
 *   npm run bench:runtime -- --invocations 2000 --stream-writes 200 --write-interval-ms 20 --poll-interval-ms 100
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startRun, writeResult } from './lib/results.js';
import { costOf, startCostPhase } from './lib/cost.js';
import { costSummary } from '../../web/bench-charts.js';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startLocalCloud, type LocalCloud } from '../../localcloud/index.js';
import { BENCH_CODE_DIR, DELIVERY_CHANNEL, fixtureFunction } from '../../localcloud/testing/lambdas/function-specs.js';
import { streamMapping } from '../../localcloud/testing/mappings.js';
import { contendedAppends, createLoadTable, putItemRate } from '../../localcloud/testing/data-plane-load.js';
import { summarize } from '../../tools/stats.js';

const { values: args } = parseArgs({
  options: {
    invocations: { type: 'string', default: '2000' },
    'stream-writes': { type: 'string', default: '200' },
    'write-interval-ms': { type: 'string', default: '20' },
    'poll-interval-ms': { type: 'string' },
    'data-plane-puts': { type: 'string', default: '1000' },
    'contended-appends': { type: 'string', default: '40' },
  },
});
const provenance = startRun('runtime');
const settings = {
  invocations: positiveInteger('invocations', args.invocations),
  streamWrites: positiveInteger('stream-writes', args['stream-writes']),
  writeIntervalMs: positiveInteger('write-interval-ms', args['write-interval-ms']),
  dataPlanePuts: positiveInteger('data-plane-puts', args['data-plane-puts']),
  contendedAppendsPerClient: positiveInteger('contended-appends', args['contended-appends']),
  pollIntervalMs: args['poll-interval-ms'] === undefined ? undefined : positiveInteger('poll-interval-ms', args['poll-interval-ms']),
};
const WARMUP = 200;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

const cloud = await startLocalCloud({ port: 0, ttlPeriodMs: 0, pollIntervalMs: settings.pollIntervalMs, meterUsage: true });
try {
  const invoke = await benchInvoke(cloud);
  const streamDeliveryMs = await benchStreamDelivery(cloud);
  const dataPlane = await benchDataPlane(cloud);
  const result = {
    benchmark: 'runtime',
    settings: { ...settings, pollIntervalMs: settings.pollIntervalMs ?? 'EventSourceMappings default' },
    ...invoke,
    streamDeliveryMs,
    dataPlane,
    targets: {
      invokeOverheadP50Ms: { target: 5, measured: invoke.invokeOverheadMs.sdk.p50, met: invoke.invokeOverheadMs.sdk.p50 < 5 },
      streamDeliveryP99Ms: { target: 500, measured: streamDeliveryMs.p99, met: streamDeliveryMs.p99 < 500 },
    },
  };
  writeResult('runtime', provenance, result);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await cloud.stop();
}

/** One invocation: its round trip and the handler's own share of it, in ms. */
interface Sample {
  roundTripMs: number;
  handlerMs: number;
}

async function benchInvoke(cloud: LocalCloud) {
  const functionName = 'bench-noop';
  cloud.runtime.register(fixtureFunction(functionName, 'noop', { codeDir: BENCH_CODE_DIR }));
  const costPhase = startCostPhase(cloud, { functions: [functionName], quietMs: 0 });
  const lambda = new LambdaClient({ endpoint: cloud.endpoint, region: cloud.region, credentials });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const coldStart = await timed(() => cloud.runtime.invoke(functionName, {}));
    const ways: Record<'sdk' | 'http' | 'inProcess', () => Promise<number>> = {
      sdk: async () => {
        const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from('{}') }));
        return handlerMsOf(Buffer.from(response.Payload ?? []).toString());
      },
      http: async () => handlerMsOf(await post(agent, `${cloud.endpoint}/2015-03-31/functions/${functionName}/invocations`, '{}')),
      inProcess: async () => handlerMsOf(JSON.stringify((await cloud.runtime.invoke(functionName, {})).payload)),
    };
    const samples: Record<string, Sample[]> = {};
    for (const [way, call] of Object.entries(ways)) {
      for (let i = 0; i < WARMUP; i += 1) await call();
      samples[way] = [];
      for (let i = 0; i < settings.invocations; i += 1) {
        const { ms, value } = await timed(call);
        samples[way].push({ roundTripMs: ms, handlerMs: value });
      }
    }
    const overhead = (way: string) => summarize((samples[way] ?? []).map((s) => round(s.roundTripMs - s.handlerMs)));
    const usage = await costPhase.usage();
    const cost = costOf(usage, { operations: usage.lambda.invocations, operation: 'invocation' }, [functionName]);
    console.log(`cost: ${costSummary(cost)}`);
    return {
      cost,
      coldStartMs: round(coldStart.ms),
      invokeRoundTripMs: { sdk: summarize((samples.sdk ?? []).map((s) => round(s.roundTripMs))) },
      invokeOverheadMs: { sdk: overhead('sdk'), http: overhead('http'), inProcess: overhead('inProcess') },
    };
  } finally {
    lambda.destroy();
    agent.destroy();
  }
}

async function benchStreamDelivery(cloud: LocalCloud) {
  const tableName = `bench-stream-${Date.now()}`;
  const functionName = 'bench-stream-sink';
  // Straight to the data plane (DynamoDB Local): the table is the benchmark's setup, not what it measures.
  const setup = new DynamoDBClient({ endpoint: cloud.dynamodbEndpoint, region: cloud.region, credentials });
  const writer = new DynamoDBClient({ endpoint: cloud.endpoint, region: cloud.region, credentials });
  const deliveries = new BroadcastChannel(DELIVERY_CHANNEL);
  const latencies: number[] = [];
  deliveries.onmessage = (message: MessageEvent) => {
    const delivery = message.data as { receivedAt: number; writtenAt: number[] };
    for (const writtenAt of delivery.writtenAt) latencies.push(delivery.receivedAt - writtenAt);
  };
  try {
    const { TableDescription } = await setup.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    const streamArn = TableDescription?.LatestStreamArn;
    if (!streamArn) throw new Error(`${tableName} was created without a stream`);
    cloud.runtime.register(fixtureFunction(functionName, 'recordDelivery', { codeDir: BENCH_CODE_DIR }));
    await cloud.runtime.invoke(functionName, { Records: [] }); // cold start outside the measurement
    cloud.esm.upsert(streamMapping(functionName, streamArn, tableName, { startingPosition: 'LATEST' }));
    await sleep(1000); // let the poller take its position at the stream's end

    for (let i = 0; i < settings.streamWrites; i += 1) {
      const item = { pk: { S: `item-${i}` }, writtenAt: { N: String(Date.now()) } };
      await writer.send(new PutItemCommand({ TableName: tableName, Item: item }));
      await sleep(settings.writeIntervalMs);
    }
    const deadline = Date.now() + 30_000;
    while (latencies.length < settings.streamWrites && Date.now() < deadline) await sleep(50);
    if (latencies.length < settings.streamWrites) {
      throw new Error(`only ${latencies.length} of ${settings.streamWrites} stream records reached the handler within 30 s`);
    }
    return summarize(latencies);
  } finally {
    deliveries.close();
    setup.destroy();
    writer.destroy();
  }
}

/** Raw DynamoDB rates through the edge; the contended run gives up after 120 s (moto could take far longer). */
async function benchDataPlane(cloud: LocalCloud) {
  const config = { endpoint: cloud.endpoint, region: cloud.region, credentials };
  const client = new DynamoDBClient(config);
  const tableName = `bench-data-plane-${Date.now()}`;
  try {
    await createLoadTable(client, tableName);
    await putItemRate(client, tableName, 200, 1, 'warmup');
    const putItemSequential = await putItemRate(client, tableName, settings.dataPlanePuts, 1, 'seq');
    const putItem16InFlight = await putItemRate(client, tableName, settings.dataPlanePuts, 16, 'par');
    const contended = await contendedAppends(config, tableName, 'contended', 8, settings.contendedAppendsPerClient, Date.now() + 120_000, true);
    const { Count } = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND n >= :zero',
        ExpressionAttributeValues: { ':pk': { S: 'contended' }, ':zero': { N: '0' } },
        Select: 'COUNT',
        ConsistentRead: true,
      }),
    );
    return {
      endpoint: 'edge',
      putItemPerSecond: { sequential: putItemSequential.perSecond, inFlight16: putItem16InFlight.perSecond },
      contendedTransactWriteItems: { ...contended, items: Count ?? 0, agree: contended.succeeded === contended.counter && contended.counter === Count },
    };
  } finally {
    client.destroy();
  }
}

async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await call();
  return { ms: performance.now() - started, value };
}

function handlerMsOf(payloadJson: string): number {
  return (JSON.parse(payloadJson) as { handlerMs: number }).handlerMs;
}

function post(agent: http.Agent, url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function positiveInteger(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return parsed;
}
