/**
 * The edge in front of a real moto_server, driven by the real AWS CLI (v1) and the SDK:
 * Lambda calls are served by the edge, everything else reaches moto through it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Edge } from '../../../edge/edge.js';
import { lambdaApi } from '../../../lambda/api.js';
import { startMoto, type MotoServer } from '../../../data-plane/moto.js';
import { WorkerLambdaRuntime } from '../../../lambda/runtime.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { ACCOUNT_ID, REGION, TEST_CREDENTIALS_ENV, testAws } from '../../../testing/aws.js';
import { streamMapping } from '../../../testing/mappings.js';

const run = promisify(execFile);
const mapping = streamMapping('echo', `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/T/stream/x`, 'T', {
  uuid: '33333333-3333-5333-8333-333333333333',
  startingPosition: 'LATEST',
});

describe('edge + moto, with the AWS CLI and the SDK', () => {
  let moto: MotoServer;
  let edge: Edge;
  let runtime: WorkerLambdaRuntime;
  let workDir: string;

  /** `aws --endpoint-url <edge> ...args`, run in workDir; rejects on a non-zero exit. */
  const aws = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('aws', ['--endpoint-url', edge.url, '--output', 'json', ...args], {
      cwd: workDir,
      env: { ...process.env, ...TEST_CREDENTIALS_ENV, AWS_DEFAULT_REGION: REGION },
    });
    return stdout;
  };
  const awsJson = async (...args: string[]): Promise<Record<string, unknown>> =>
    JSON.parse(await aws(...args)) as Record<string, unknown>;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'localcloud-cli-'));
    moto = await startMoto();
    edge = await Edge.start({ port: 0, upstream: moto.endpoint });
    runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: edge.url });
    runtime.register(fixtureFunction('echo', 'echo', { environment: { STAGE: 'local' } }));
    runtime.register(fixtureFunction('failing', 'fail'));
    runtime.register(fixtureFunction('tables', 'listTables'));
    edge.use(lambdaApi({ runtime, eventSourceMappings: { list: () => [mapping] }, region: REGION, accountId: ACCOUNT_ID }));
  });

  afterAll(async () => {
    await runtime?.close();
    await edge?.close();
    await moto?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  describe('aws lambda (served by the edge)', () => {
    it('invoke: the raw payload reaches the handler, the result lands in the outfile', async () => {
      const response = await awsJson('lambda', 'invoke', '--function-name', 'echo', '--payload', '{"a":1}', 'out.json');

      expect(response).toEqual({ StatusCode: 200, ExecutedVersion: '$LATEST' });
      expect(JSON.parse(readFileSync(path.join(workDir, 'out.json'), 'utf8'))).toMatchObject({ event: { a: 1 }, functionName: 'echo' });
    });

    it('invoke of a failing handler: FunctionError Unhandled and the error in the outfile', async () => {
      const response = await awsJson('lambda', 'invoke', '--function-name', 'failing', '--payload', '{"partition":9}', '--log-type', 'Tail', 'err.json');

      expect(response).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
      expect(Buffer.from(String(response.LogResult), 'base64').toString()).toContain('Invoke Error');
      expect(JSON.parse(readFileSync(path.join(workDir, 'err.json'), 'utf8'))).toMatchObject({
        errorType: 'PartitionNotFound',
        errorMessage: 'no partition 9',
      });
    });

    it('invoke of an unknown function fails with ResourceNotFoundException', async () => {
      const failure: unknown = await aws('lambda', 'invoke', '--function-name', 'nope', 'nope.json').catch((e: unknown) => e);

      expect(failure).toMatchObject({
        code: 255,
        stderr: expect.stringMatching(/ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope/),
      });
    });

    it('list-functions, get-function, list-event-source-mappings', async () => {
      const list = await awsJson('lambda', 'list-functions');
      const echo = await awsJson('lambda', 'get-function', '--function-name', 'echo');
      const mappings = await awsJson('lambda', 'list-event-source-mappings', '--function-name', 'echo');

      expect((list.Functions as Array<{ FunctionName: string }>).map((fn) => fn.FunctionName)).toEqual(['echo', 'failing', 'tables']);
      expect(echo.Configuration).toMatchObject({
        FunctionName: 'echo',
        Handler: 'index.echo',
        State: 'Active',
        Environment: { Variables: { STAGE: 'local' } },
      });
      expect(mappings.EventSourceMappings).toEqual([expect.objectContaining({ UUID: mapping.uuid, StartingPosition: 'LATEST' })]);
    });
  });

  describe('other services (proxied to moto)', () => {
    it('aws dynamodb create-table and list-tables go through the edge', async () => {
      await aws(
        'dynamodb', 'create-table', '--table-name', 'ViaCli',
        '--attribute-definitions', 'AttributeName=pk,AttributeType=S',
        '--key-schema', 'AttributeName=pk,KeyType=HASH',
        '--billing-mode', 'PAY_PER_REQUEST',
      );

      expect(await awsJson('dynamodb', 'list-tables')).toEqual({ TableNames: expect.arrayContaining(['ViaCli']) });
    });

    it('the SDK works through the edge, and moto builds URLs that point back at the edge', async () => {
      const aws = testAws(edge.url);
      const { dynamodb, sqs } = aws;
      try {
        await dynamodb.send(
          new CreateTableCommand({
            TableName: 'ViaSdk',
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toContain('ViaSdk');
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'via-edge' }));
        expect(QueueUrl).toBe(`${edge.url}/${ACCOUNT_ID}/via-edge`);
      } finally {
        aws.destroy();
      }
    });

    it('a function reaches the data plane through AWS_ENDPOINT_URL, with no configuration of its own', async () => {
      const result = await runtime.invoke('tables', {});

      expect(result.error).toBeUndefined();
      expect(result.payload).toEqual({ tableNames: expect.arrayContaining(['ViaCli', 'ViaSdk']) });
    });
  });
});
