import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Edge } from '../../../edge/edge.js';
import { lambdaApi, type EventSourceMappingCatalog } from '../../../lambda/api.js';
import { findFreePort } from '../../../data-plane/moto.js';
import { WorkerLambdaRuntime } from '../../../lambda/runtime.js';
import type { EventSourceMappingSpec } from '../../../types.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { ACCOUNT_ID, REGION, testClientConfig } from '../../../testing/aws.js';
import { sqsMapping, streamMapping } from '../../../testing/mappings.js';

const STREAM_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/Heartbeats/stream/2026-11-25T00:00:00.000`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:events.fifo`;

const mappings: EventSourceMappingSpec[] = [
  streamMapping('echo', STREAM_ARN, 'Heartbeats', {
    uuid: '11111111-1111-5111-8111-111111111111',
    batchSize: 10,
    maximumRetryAttempts: 2,
    bisectBatchOnFunctionError: true,
    onFailureDestinationArn: QUEUE_ARN,
    reportBatchItemFailures: true,
    filterPatterns: ['{"eventName":["REMOVE"]}'],
  }),
  sqsMapping(
    `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:failing`,
    { url: 'http://127.0.0.1:4566/123456789012/events.fifo', arn: QUEUE_ARN },
    { uuid: '22222222-2222-5222-8222-222222222222', batchSize: 1, enabled: false },
  ),
];
const catalog: EventSourceMappingCatalog = { list: () => mappings };

/** What the fake upstream saw of the last request it got. */
interface Seen {
  method?: string;
  url?: string;
  rawHeaders: string[];
  body: Buffer;
}

describe('edge: Lambda API served locally, everything else proxied', () => {
  let upstream: http.Server;
  let seen: Seen;
  let edge: Edge;
  let runtime: WorkerLambdaRuntime;
  let lambda: LambdaClient;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
        res.writeHead(418, 'Teapot', { 'Content-Type': 'application/x-amz-json-1.0', 'X-Upstream': 'moto' });
        res.end(Buffer.from([0x00, 0xff, 0x10, 0x7b]));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    edge = await Edge.start({ port: 0, upstream: upstreamUrl });
    runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: edge.url });
    runtime.register(fixtureFunction('echo', 'echo', { environment: { TABLE: 'T' } }));
    runtime.register(fixtureFunction('failing', 'fail'));
    runtime.register(fixtureFunction('logger', 'logs'));
    runtime.register(fixtureFunction('large', 'large'));
    edge.use(lambdaApi({ runtime, eventSourceMappings: catalog, region: REGION, accountId: ACCOUNT_ID }));
    lambda = new LambdaClient(testClientConfig(edge.url, { maxAttempts: 1 }));
  });

  afterAll(async () => {
    lambda?.destroy();
    await runtime?.close();
    await edge?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  describe('Invoke', () => {
    it('returns the handler result with status 200 and the executed version', async () => {
      const response = await lambda.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ a: 1 })) }),
      );

      expect(response.StatusCode).toBe(200);
      expect(response.FunctionError).toBeUndefined();
      expect(response.ExecutedVersion).toBe('$LATEST');
      expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toMatchObject({ event: { a: 1 }, functionName: 'echo' });
    });

    it('accepts a full ARN, URL-encoded in the path', async () => {
      const arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:echo`;
      const response = await lambda.send(new InvokeCommand({ FunctionName: arn, Payload: Buffer.from('"x"') }));

      expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toMatchObject({ event: 'x' });
    });

    it('reports a handler error as FunctionError Unhandled with the error as payload', async () => {
      const response = await lambda.send(new InvokeCommand({ FunctionName: 'failing', Payload: Buffer.from('{"partition":3}') }));

      expect(response.StatusCode).toBe(200);
      expect(response.FunctionError).toBe('Unhandled');
      const payload: unknown = JSON.parse(Buffer.from(response.Payload ?? []).toString());
      expect(payload).toMatchObject({ errorType: 'PartitionNotFound', errorMessage: 'no partition 3', trace: expect.any(Array) });
    });

    it('answers a response over 6 MB as Lambda does: Function.ResponseSizeTooLarge, FunctionError Unhandled', async () => {
      const invoke = (bytes: number) => lambda.send(new InvokeCommand({ FunctionName: 'large', Payload: Buffer.from(JSON.stringify({ bytes })) }));
      const tooLarge = await invoke(6 * 1024 * 1024 + 200);
      expect(tooLarge.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(tooLarge.Payload ?? []).toString())).toEqual({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      });
      const fits = await invoke(6 * 1024 * 1024 - 100);
      expect(fits.FunctionError).toBeUndefined();
      expect(Buffer.from(fits.Payload ?? []).length).toBe(6 * 1024 * 1024 - 100 + '{"filler":""}'.length);
    });

    it('returns the log tail, base64, when asked', async () => {
      const response = await lambda.send(
        new InvokeCommand({ FunctionName: 'logger', LogType: 'Tail', Payload: Buffer.from('{"tag":"tail-me"}') }),
      );

      const log = Buffer.from(response.LogResult ?? '', 'base64').toString();
      expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST/);
      expect(log).toContain('raw stdout tail-me');
      expect(log).toMatch(/REPORT RequestId: \S+\tDuration:/);
    });

    it('answers an Event invocation with 202 and runs the function in the background; DryRun runs nothing', async () => {
      const invoke = vi.spyOn(runtime, 'invoke');
      try {
        const dry = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun', Payload: Buffer.from('{"dry":1}') }));
        expect(dry.StatusCode).toBe(204);
        const queued = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from('{"async":1}') }));
        expect(queued.StatusCode).toBe(202);
        await vi.waitFor(() => expect(invoke).toHaveBeenCalledWith('echo', { async: 1 }), { timeout: 10_000 });
        expect(invoke).toHaveBeenCalledTimes(1);
        await expect(invoke.mock.results[0].value).resolves.toMatchObject({ payload: { event: { async: 1 } } });
      } finally {
        invoke.mockRestore();
      }
    });

    it('passes {} for an empty payload', async () => {
      const response = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));

      expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toMatchObject({ event: {} });
    });

    it('refuses a payload that is not JSON, as InvalidRequestContentException', async () => {
      await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') }))).rejects.toMatchObject({
        name: 'InvalidRequestContentException',
        $metadata: { httpStatusCode: 400 },
        message: expect.stringContaining('Could not parse request body into json'),
      });
    });

    it('refuses JSON nested more than 512 levels deep (100,000 here) as InvalidRequestContentException; the next call on the same function succeeds', async () => {
      const invoke = vi.spyOn(runtime, 'invoke');
      try {
        const deep = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
        await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(deep) }))).rejects.toMatchObject({
          name: 'InvalidRequestContentException',
          $metadata: { httpStatusCode: 400 },
          message: expect.stringContaining('more than 512 levels deep'),
        });
        expect(invoke).not.toHaveBeenCalled();

        // Brackets inside strings are text, and 512 levels are accepted.
        const deepest = `{"s":"[[[[{{{{","x":${'['.repeat(511)}${']'.repeat(511)}}`;
        const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(deepest) }));
        expect(accepted.FunctionError).toBeUndefined();
        const next = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"after":1}') }));
        expect(next.FunctionError).toBeUndefined();
        expect(JSON.parse(Buffer.from(next.Payload ?? []).toString())).toMatchObject({ event: { after: 1 } });
      } finally {
        invoke.mockRestore();
      }
    });

    it('refuses a payload that is not valid UTF-8 as InvalidRequestContentException, and runs nothing', async () => {
      const invoke = vi.spyOn(runtime, 'invoke');
      try {
        const invalid = Buffer.concat([Buffer.from('{"value":"'), Buffer.from([0xff, 0xfe]), Buffer.from(' bad"}')]);
        await expect(lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: invalid }))).rejects.toMatchObject({
          name: 'InvalidRequestContentException',
          $metadata: { httpStatusCode: 400 },
          message: expect.stringContaining('payload is not valid UTF-8'),
        });
        expect(invoke).not.toHaveBeenCalled();
        const valid = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"value":"ü ok"}') }));
        expect(JSON.parse(Buffer.from(valid.Payload ?? []).toString())).toMatchObject({ event: { value: 'ü ok' } });
      } finally {
        invoke.mockRestore();
      }
    });

    it('answers a malformed %-escape in the path with 400, and keeps serving', async () => {
      const response = await fetch(`${edge.url}/2015-03-31/functions/%E0%A4%A/invocations`, { method: 'POST', body: '{}' });

      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestException');
      const next = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }));
      expect(next.StatusCode).toBe(200);
    });

    it('answers a throttle (reserved concurrency in use) as Lambda does: 429 TooManyRequestsException with its Reason', async () => {
      runtime.register(fixtureFunction('switched-off', 'echo', { reservedConcurrency: 0 }));
      const described = await lambda.send(new GetFunctionCommand({ FunctionName: 'switched-off' }));
      expect(described.Concurrency).toEqual({ ReservedConcurrentExecutions: 0 });
      const error: unknown = await lambda
        .send(new InvokeCommand({ FunctionName: 'switched-off', Payload: Buffer.from('{}') }))
        .catch((e: unknown) => e)
        .finally(() => runtime.unregister('switched-off'));
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect(error).toMatchObject({
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        $metadata: { httpStatusCode: 429 },
      });
    });

    it('answers ResourceNotFoundException for an unknown function, as AWS does', async () => {
      const error: unknown = await lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: Buffer.from('{}') })).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error).toMatchObject({
        $metadata: { httpStatusCode: 404 },
        message: `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:nope`,
      });
    });

    it('sends the raw not-found shape: x-amzn-errortype and {Type, message}', async () => {
      const response = await fetch(`${edge.url}/2015-03-31/functions/nope/invocations`, { method: 'POST', body: '{}' });

      expect(response.status).toBe(404);
      expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
      expect(await response.json()).toMatchObject({ Type: 'User', message: expect.stringContaining('Function not found: arn:aws:lambda:') });
    });
  });

  describe('function and mapping reads', () => {
    it('lists functions, with pagination', async () => {
      const all = await lambda.send(new ListFunctionsCommand({}));
      expect(all.Functions?.map((fn) => fn.FunctionName)).toEqual(['echo', 'failing', 'large', 'logger']);
      expect(all.NextMarker).toBeUndefined();

      const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 2 }));
      const rest = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: first.NextMarker }));
      expect([...(first.Functions ?? []), ...(rest.Functions ?? [])].map((fn) => fn.FunctionName)).toEqual(['echo', 'failing', 'large', 'logger']);
    });

    it('describes a function: GetFunction', async () => {
      const { Configuration, Code } = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));

      expect(Configuration).toMatchObject({
        FunctionName: 'echo',
        FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:echo`,
        Runtime: 'nodejs20.x',
        Handler: 'index.echo',
        Timeout: 3,
        MemorySize: 128,
        Environment: { Variables: { TABLE: 'T' } },
        State: 'Active',
        LastUpdateStatus: 'Successful',
      });
      expect(Code?.Location).toMatch(/^file:\/\/.*\/localcloud\/testing\/lambdas\/basic$/);
      await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    });

    it('lists event source mappings, filtered by function name or ARN', async () => {
      const all = await lambda.send(new ListEventSourceMappingsCommand({}));
      expect(all.EventSourceMappings?.map((mapping) => mapping.UUID)).toEqual(mappings.map((mapping) => mapping.uuid));

      const byArn = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:failing` }),
      );
      expect(byArn.EventSourceMappings?.map((mapping) => mapping.UUID)).toEqual([mappings[1]?.uuid]);
      const bySource = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: STREAM_ARN }));
      expect(bySource.EventSourceMappings?.map((mapping) => mapping.FunctionArn)).toEqual([
        `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:echo`,
      ]);
    });

    it('renders event source mappings in the Lambda shape', async () => {
      const [stream, queue] = (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings ?? [];

      expect(stream).toMatchObject({
        EventSourceArn: STREAM_ARN,
        State: 'Enabled',
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 10,
        MaximumRetryAttempts: 2,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: { Filters: [{ Pattern: '{"eventName":["REMOVE"]}' }] },
        DestinationConfig: { OnFailure: { Destination: QUEUE_ARN } },
      });
      expect(queue).toMatchObject({ EventSourceArn: QUEUE_ARN, State: 'Disabled', BatchSize: 1 });
      expect(queue?.StartingPosition).toBeUndefined();
    });
  });

  describe('proxy', () => {
    it('forwards anything else byte for byte: method, path, query, headers, body; and the answer back', async () => {
      const body = Buffer.from([0x7b, 0x00, 0xfe, 0x7d]);
      const response = await new Promise<{ status?: number; message?: string; headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const req = http.request(
            `${edge.url}/some/path?x=1&y=%2F`,
            { method: 'PUT', headers: { 'X-Amz-Target': 'DynamoDB_20120810.ListTables', Host: `localhost:${edge.port}`, 'Content-Length': body.length } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('end', () => resolve({ status: res.statusCode, message: res.statusMessage, headers: res.headers, body: Buffer.concat(chunks) }));
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );

      expect(seen.method).toBe('PUT');
      expect(seen.url).toBe('/some/path?x=1&y=%2F');
      expect(seen.rawHeaders).toEqual(expect.arrayContaining(['X-Amz-Target', 'DynamoDB_20120810.ListTables', 'Host', `localhost:${edge.port}`]));
      expect(seen.body.equals(body)).toBe(true);
      expect(response.status).toBe(418);
      expect(response.message).toBe('Teapot');
      expect(response.headers['x-upstream']).toBe('moto');
      expect(response.body.equals(Buffer.from([0x00, 0xff, 0x10, 0x7b]))).toBe(true);
    });

    it('proxies Lambda calls it does not serve itself', async () => {
      await fetch(`${edge.url}/2015-03-31/functions/echo/policy`, { method: 'GET' });

      expect(seen.url).toBe('/2015-03-31/functions/echo/policy');
    });
  });
});

describe('edge lifecycle', () => {
  it('answers 502 when the upstream is down, and frees its port on close()', async () => {
    const deadUpstream = await findFreePort();
    const edge = await Edge.start({ port: 0, upstream: `http://127.0.0.1:${deadUpstream}` });

    const response = await fetch(`${edge.url}/`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(502);
    await edge.close();

    await expect(fetch(`${edge.url}/`)).rejects.toThrow();
  });

  it('says which port is taken', async () => {
    const first = await Edge.start({ port: 0, upstream: 'http://127.0.0.1:1' });
    try {
      await expect(Edge.start({ port: first.port, upstream: 'http://127.0.0.1:1' })).rejects.toMatchObject({
        name: 'EdgePortInUseError',
        message: expect.stringContaining(`port ${first.port} is already in use`),
      });
    } finally {
      await first.close();
    }
  });
});
