import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DynamoDBClient,
  InternalServerError,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChaosFaults, DEFAULT_CHAOS_RATES, InvalidChaosOptionsError, type ChaosRates } from '../../chaos.js';
import { Edge } from '../../edge/edge.js';
import { WorkerLambdaRuntime } from '../../lambda/runtime.js';
import { fixtureFunction } from '../../testing/lambdas/function-specs.js';
import { REGION, testClientConfig } from '../../testing/aws.js';

const NONE: ChaosRates = Object.fromEntries(Object.entries(DEFAULT_CHAOS_RATES).map(([name, value]) => [name, name.endsWith('Ms') ? value : 0])) as ChaosRates;
const only = (rates: Partial<ChaosRates>, seed = 7) => new ChaosFaults({ seed, rates: { ...NONE, ...rates }, enabled: true });

describe('chaos: the fault mode of the embedded cloud', () => {
  it('refuses a rate outside [0, 1] or a seed that is no integer, naming it', () => {
    expect(() => new ChaosFaults({ seed: 1, rates: { throttle: 1.5 } })).toThrow(InvalidChaosOptionsError);
    expect(() => new ChaosFaults({ seed: 1, rates: { throttle: 1.5 } })).toThrow(/throttle must be a probability in \[0, 1\], got 1.5/);
    expect(() => new ChaosFaults({ seed: 1, rates: { latencyMaxMs: -1 } })).toThrow(/latencyMaxMs must be a duration >= 0/);
    expect(() => new ChaosFaults({ seed: 0.5 })).toThrow(/seed must be an integer/);
  });

  it('injects nothing until enabled, then draws the same faults from the same seed', () => {
    const off = new ChaosFaults({ seed: 3, rates: { throttle: 1 } });
    expect(off.dynamodbFault('PutItem')).toBeUndefined();
    const draws = (seed: number) => {
      const chaos = new ChaosFaults({ seed, enabled: true });
      return Array.from({ length: 500 }, (_, i) => [chaos.dynamodbFault(i % 2 ? 'UpdateItem' : 'TransactWriteItems'), chaos.lambdaFault(3000), chaos.streamFault()]);
    };
    expect(draws(11)).toEqual(draws(11));
    expect(draws(11)).not.toEqual(draws(12));
  });

  it('fails a read before it, never after: a 500 after the write is for writes only', () => {
    const chaos = only({ serverErrorAfterWrite: 1 });
    expect(chaos.dynamodbFault('GetItem')).toBeUndefined();
    expect(chaos.dynamodbFault('PutItem')).toEqual({ kind: 'internal-error-after-write' });
    expect(chaos.faultCounts()['dynamodb.internal-error-after-write']).toBe(1);
  });
});

describe('chaos at the edge: DynamoDB answers as AWS would', () => {
  let upstream: http.Server;
  let forwarded: string[] = [];
  let edge: Edge;
  let dynamodb: DynamoDBClient;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        forwarded.push(String(req.headers['x-amz-target']));
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    edge = await Edge.start({ port: 0, upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
    dynamodb = new DynamoDBClient(testClientConfig(edge.url, { maxAttempts: 1 }));
  });

  afterEach(() => {
    forwarded = [];
  });

  afterAll(async () => {
    dynamodb.destroy();
    await edge.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  const put = new PutItemCommand({ TableName: 'T', Item: { id: { S: 'a' } } });
  const update = new UpdateItemCommand({ TableName: 'T', Key: { id: { S: 'a' } }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '1' } } });
  const transaction = new TransactWriteItemsCommand({
    TransactItems: [put.input, { ...put.input, Item: { id: { S: 'b' } } }, { ...put.input, Item: { id: { S: 'c' } } }].map((Put) => ({ Put })),
  });

  it('throttles without writing: ProvisionedThroughputExceededException or ThrottlingException, 400', async () => {
    edge.injectFaults(only({ throttle: 1 }));
    const error = (await dynamodb.send(put).then(
      () => undefined,
      (caught: unknown) => caught,
    )) as Error & { $metadata: { httpStatusCode: number } };
    expect(['ProvisionedThroughputExceededException', 'ThrottlingException']).toContain(error.name);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(forwarded).toEqual([]);
  });

  it('answers 500 InternalServerError before a write, or after it was applied', async () => {
    edge.injectFaults(only({ serverError: 1 }));
    await expect(dynamodb.send(put)).rejects.toBeInstanceOf(InternalServerError);
    expect(forwarded).toEqual([]);
    edge.injectFaults(only({ serverErrorAfterWrite: 1 }));
    await expect(dynamodb.send(put)).rejects.toBeInstanceOf(InternalServerError);
    expect(forwarded).toEqual(['DynamoDB_20120810.PutItem']);
  });

  it('refuses a transaction with a TransactionConflict reason on one item, and a single write with TransactionConflictException', async () => {
    const chaos = only({ transactionConflict: 1 });
    edge.injectFaults(chaos);
    const canceled = await dynamodb.send(transaction).catch((caught: unknown) => caught);
    expect(canceled).toBeInstanceOf(TransactionCanceledException);
    const codes = (canceled as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code);
    expect(codes).toHaveLength(3);
    expect(codes?.filter((code) => code === 'TransactionConflict')).toHaveLength(1);
    expect(codes?.filter((code) => code === 'None')).toHaveLength(2);
    await expect(dynamodb.send(update)).rejects.toBeInstanceOf(TransactionConflictException);
    expect(forwarded).toEqual([]);
    expect(chaos.faultCounts()['dynamodb.transaction-conflict']).toBe(2);
  });

  it('lets a request abandoned while delayed take no slot of DynamoDB Local (later requests still go)', async () => {
    const chaos = only({ latency: 1, latencyMaxMs: 1000 });
    edge.injectFaults(chaos);
    const port = new URL(edge.url).port;
    for (let i = 0; i < 10; i += 1) {
      // A sandbox killed mid-call: its connection closes while the edge holds the request back.
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem', 'content-type': 'application/x-amz-json-1.0' } });
      req.on('error', () => undefined);
      req.end('{}');
      await new Promise((resolve) => setTimeout(resolve, 5));
      req.destroy();
    }
    chaos.disable();
    const answered = await Promise.race([dynamodb.send(put).then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('stuck'), 5000))]);
    expect(answered).toBe('answered');
  });

  it('delays a request, then forwards it', async () => {
    edge.injectFaults(only({ latency: 1, latencyMaxMs: 300 }));
    await dynamodb.send(put);
    expect(forwarded).toEqual(['DynamoDB_20120810.PutItem']);
  });
});

describe('chaos in the Lambda runtime', () => {
  it('kills a sandbox mid-invocation (Runtime.ExitError) and times one out early (Sandbox.Timedout), counting each', async () => {
    const kill = only({ lambdaKill: 1, lambdaKillMaxMs: 50 });
    const runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: 'http://127.0.0.1:9', chaos: kill });
    runtime.register(fixtureFunction('sleepy', 'sleepy', { timeoutSeconds: 30 }));
    try {
      const killed = await runtime.invoke('sleepy', { ms: 5000 });
      expect(killed.error?.errorType).toBe('Runtime.ExitError');
      expect(kill.faultCounts()['lambda.killed']).toBe(1);
      kill.disable();
      expect((await runtime.invoke('sleepy', { ms: 1 })).payload).toEqual({ slept: 1 });
    } finally {
      await runtime.close();
    }
    const timeout = only({ lambdaTimeout: 1, lambdaTimeoutMaxMs: 100 });
    const slow = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: 'http://127.0.0.1:9', chaos: timeout });
    slow.register(fixtureFunction('sleepy', 'sleepy', { timeoutSeconds: 30 }));
    try {
      const timedOut = await slow.invoke('sleepy', { ms: 5000 });
      expect(timedOut.error?.errorType).toBe('Sandbox.Timedout');
      expect(timeout.faultCounts()['lambda.timeout']).toBe(1);
    } finally {
      await slow.close();
    }
  }, 60_000);
});
