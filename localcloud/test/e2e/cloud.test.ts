/**
 * The whole embedded cloud: DynamoDB Local, moto, edge, runtime and pollers, deploying a synthesized CDK
 * app (test/fixtures/cdk-app), redeploying changed code, and stopping without a trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionCommand, InvokeCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../cloud.js';
import { EdgePortInUseError } from '../../edge/edge.js';
import { FIXTURE_STACK, synthFixture } from '../fixtures/cdk-app/app.js';
import { testClientConfig } from '../../testing/aws.js';

describe('startLocalCloud', () => {
  let workDir: string;
  let assemblyDir: string;
  let outputsFile: string;
  let cloud: LocalCloud;
  let lambda: LambdaClient;
  let outputs: Record<string, string>;
  const logLines: string[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'localcloud-cloud-'));
    assemblyDir = synthFixture(path.join(workDir, 'cdk.out'));
    outputsFile = path.join(workDir, 'outputs', 'cdk-outputs.json');
    cloud = await startLocalCloud({ port: 0, assemblyDir, outputsFile, ttlPeriodMs: 0, logSink: (line) => logLines.push(line) });
    lambda = new LambdaClient(testClientConfig(cloud.endpoint));
    outputs = cloud.stacks.find((stack) => stack.stackName === FIXTURE_STACK)?.outputs ?? {};
  });

  afterAll(async () => {
    lambda?.destroy();
    await cloud?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('deploys the assembly and writes its outputs as `cdk deploy --outputs-file` does', () => {
    expect(outputs).toMatchObject({
      TableName: expect.any(String),
      TableStreamArn: expect.stringContaining('/stream/'),
      WorkQueueUrl: expect.any(String),
      FunctionName: expect.any(String),
    });
    const expected = Object.fromEntries(cloud.stacks.map((stack) => [stack.stackName, stack.outputs]));
    expect(JSON.parse(readFileSync(outputsFile, 'utf8'))).toEqual(expected);
    expect(Object.keys(expected)).toContain(FIXTURE_STACK);
  });

  it('serves the deployed function and its event source mappings at the edge', async () => {
    const functionName = outputs.FunctionName;
    const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from('{"n":1}') }));
    const { Configuration } = await lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
    const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName }));

    expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toEqual({ ok: true, received: { n: 1 } });
    expect(Configuration).toMatchObject({ Timeout: 10, MemorySize: 256, Environment: { Variables: { TABLE_NAME: outputs.TableName } } });
    const sources = EventSourceMappings.map((mapping) => mapping.EventSourceArn);
    expect(sources).toHaveLength(2);
    expect(sources).toEqual(expect.arrayContaining([outputs.TableStreamArn, expect.stringMatching(/^arn:aws:sqs:/)]));
  });

  it('runs the function from its stream event source mapping', async () => {
    const dynamodb = new DynamoDBClient(testClientConfig(cloud.endpoint));
    const reports = (): number => logLines.filter((line) => line.startsWith(`[${outputs.FunctionName}] REPORT RequestId:`)).length;
    const reportsBefore = reports();
    try {
      const key = { pk: { S: 'broker-1' }, sk: { N: '1' } };
      await dynamodb.send(new PutItemCommand({ TableName: outputs.TableName, Item: key }));
      // The mapping's filter passes REMOVE records only.
      await dynamodb.send(new DeleteItemCommand({ TableName: outputs.TableName, Key: key }));

      await expect.poll(reports, { timeout: 10_000 }).toBeGreaterThan(reportsBefore);
    } finally {
      dynamodb.destroy();
    }
  });

  it('counts the DynamoDB requests served through the edge per caller, with their queueing and service time', async () => {
    const dynamodb = new DynamoDBClient(testClientConfig(cloud.endpoint));
    try {
      const before = cloud.dynamodbStats().clients?.requests ?? 0;
      const key = { pk: { S: 'stats' }, sk: { N: '1' } };
      await dynamodb.send(new PutItemCommand({ TableName: outputs.TableName, Item: key }));
      await dynamodb.send(new DeleteItemCommand({ TableName: outputs.TableName, Key: key }));
      // This test's client names no caller: it is `clients`; the stream pollers name themselves.
      const stats = cloud.dynamodbStats();
      expect(stats.clients.requests - before).toBe(2);
      expect(stats.clients.serveMs).toBeGreaterThan(0);
      expect(stats.clients.waitMs).toBeGreaterThanOrEqual(0);
      expect(stats['event-source-mappings']?.requests).toBeGreaterThan(0);
    } finally {
      dynamodb.destroy();
    }
  });

  it('runs changed code after a redeploy, without a restart', async () => {
    const functionName = outputs.FunctionName;
    const codeDir = cloud.runtime.get(functionName)?.codeDir ?? '';
    writeFileSync(path.join(codeDir, 'index.mjs'), 'export const handler = async (event) => ({ redeployed: true, event });\n');

    await cloud.deploy(assemblyDir);
    const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from('2') }));

    expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toEqual({ redeployed: true, event: 2 });
  });

  it('stop() leaves nothing listening: neither the edge nor DynamoDB Local nor moto; nor its private code cache', async () => {
    const ports = [cloud.endpoint, cloud.dynamodbEndpoint, cloud.motoEndpoint].map((url) => Number(new URL(url).port));
    expect(await Promise.all(ports.map(canConnect))).toEqual([true, true, true]);
    expect(statSync(cloud.codeCacheDir).mode & 0o777).toBe(0o700);

    await cloud.stop();

    expect(await Promise.all(ports.map(canConnect))).toEqual([false, false, false]);
    expect(dataPlaneChildren()).toEqual([]);
    expect(existsSync(cloud.codeCacheDir)).toBe(false);
  });
});

describe('startLocalCloud on a taken port', () => {
  it('fails with EdgePortInUseError and stops the moto and DynamoDB Local it had started', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(startLocalCloud({ port })).rejects.toBeInstanceOf(EdgePortInUseError);
      expect(dataPlaneChildren()).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

/** moto_server and DynamoDB Local processes started by this test process and still running. */
function dataPlaneChildren(): string[] {
  const children = spawnSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
  return children.split('\n').filter((line) => /moto_server|DynamoDBLocal\.jar/.test(line) && !/^\s*\d+\s+Z/.test(line));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
