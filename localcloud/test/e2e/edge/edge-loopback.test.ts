/**
 * The edge answers loopback clients only: what a web page (any Origin, a cross-site fetch,
 * a CORS preflight) or a DNS-rebinding page (a foreign Host) sends is refused before the
 * Lambda API, DynamoDB Local or moto sees it, and moto's management API is not reachable
 * through it. The SDK path (no Origin, a loopback Host) keeps working.
 */
import http from 'node:http';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, ListQueuesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDataPlane, type DataPlane } from '../../../data-plane/data-plane.js';
import { Edge } from '../../../edge/edge.js';
import { lambdaApi } from '../../../lambda/api.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { ACCOUNT_ID, createQueue, REGION, s, testAws, testClientConfig, type TestAws } from '../../../testing/aws.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';
import { rawRequest } from '../../support/raw-http.js';

/** Any Origin at all is a web page's: a foreign site, a sandboxed or file page (`null`), even a page on loopback. */
const ORIGINS = ['http://evil.example', 'null', 'http://localhost:4566'];

const TABLE = 'LoopbackOnly';
const QUEUE = 'loopback-only';

function corsHeaders(headers: http.IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'));
}

/** An SDK client that sends `origin` on every request, as a page's fetch would. */
function withOrigin<C extends LambdaClient | DynamoDBClient | SQSClient>(client: C, origin: string): C {
  // The stacks differ only in their commands' types, which this middleware does not look at.
  const stack = client.middlewareStack as LambdaClient['middlewareStack'];
  stack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers.origin = origin;
      return next(args);
    },
    { step: 'build', name: 'pageOrigin' },
  );
  return client;
}

/** A real data plane (DynamoDB Local's JVM, moto) starts slowly on a loaded 2-core machine: e2e's allowances. */
const DATA_PLANE_START_MS = 180_000;
const CALL_MS = 60_000;

describe('edge: loopback callers only', { timeout: CALL_MS }, () => {
  let dataPlane: DataPlane;
  let aws: TestAws & { destroy(): void };
  let runtime: FakeLambdaRuntime;
  let lambda: LambdaClient;
  let queueUrl: string;
  const pageClients: Array<{ destroy(): void }> = [];

  beforeAll(async () => {
    dataPlane = await startDataPlane();
    runtime = new FakeLambdaRuntime();
    runtime.register(fixtureFunction('echo', 'echo'));
    runtime.on('echo', (payload) => ({ event: payload }));
    dataPlane.edge.use(lambdaApi({ runtime, region: REGION, accountId: ACCOUNT_ID }));
    aws = testAws(dataPlane.endpoint);
    lambda = new LambdaClient(testClientConfig(dataPlane.endpoint, { maxAttempts: 1 }));
    await aws.dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    queueUrl = (await createQueue(aws, QUEUE)).url;
  }, DATA_PLANE_START_MS);

  afterAll(async () => {
    for (const client of pageClients) client.destroy();
    lambda?.destroy();
    aws?.destroy();
    await dataPlane?.stop();
  }, CALL_MS);

  function pageClient<C extends LambdaClient | DynamoDBClient | SQSClient>(make: (config: ReturnType<typeof testClientConfig>) => C, origin: string): C {
    const client = withOrigin(make(testClientConfig(dataPlane.endpoint, { maxAttempts: 1 })), origin);
    pageClients.push(client);
    return client;
  }

  async function queueDepth(): Promise<number> {
    const { Attributes } = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(Attributes?.ApproximateNumberOfMessages);
  }

  const refused = { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 }, message: expect.stringContaining('Origin') };

  describe('a request with an Origin header, whatever its value, is refused with 403', () => {
    it.each(ORIGINS)('a Lambda invoke with Origin %s: nothing runs', async (origin) => {
      const page = pageClient((config) => new LambdaClient(config), origin);
      const before = runtime.invocationsOf('echo').length;

      await expect(page.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"from":"page"}') }))).rejects.toMatchObject(refused);

      expect(runtime.invocationsOf('echo')).toHaveLength(before);
    });

    it.each(ORIGINS)('a DynamoDB PutItem with Origin %s: nothing is written', async (origin) => {
      const page = pageClient((config) => new DynamoDBClient(config), origin);
      const pk = `page-${origin}`;

      await expect(page.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(pk) } }))).rejects.toMatchObject(refused);

      expect((await aws.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(pk) } }))).Item).toBeUndefined();
    });

    it.each(ORIGINS)('an SQS SendMessage (moto) with Origin %s: nothing is queued', async (origin) => {
      const page = pageClient((config) => new SQSClient(config), origin);
      const depth = await queueDepth();

      await expect(page.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'from a page' }))).rejects.toMatchObject(refused);

      expect(await queueDepth()).toBe(depth);
    });

    it('answers with an AWS-style JSON error a browser test can observe: __type, message, x-amzn-errortype, no CORS headers', async () => {
      const response = await rawRequest(`${dataPlane.endpoint}/2015-03-31/functions/echo/invocations`, {
        method: 'POST',
        headers: { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
        body: '{}',
      });

      expect(response.status).toBe(403);
      expect(response.headers['x-amzn-errortype']).toBe('AccessDeniedException');
      expect(response.headers['content-type']).toBe('application/json');
      expect(JSON.parse(response.body)).toEqual({
        __type: 'AccessDeniedException',
        message: expect.stringContaining('refuses requests from web pages (Origin: http://evil.example)'),
      });
      expect(corsHeaders(response.headers)).toEqual([]);
    });
  });

  it("refuses a request a browser makes for another site's page without an Origin (Sec-Fetch-Site), as an <img> GET would", async () => {
    for (const site of ['cross-site', 'same-site']) {
      const response = await rawRequest(`${dataPlane.endpoint}/2015-03-31/functions`, { headers: { 'Sec-Fetch-Site': site } });
      expect(response.status, site).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ __type: 'AccessDeniedException', message: expect.stringContaining(`Sec-Fetch-Site: ${site}`) });
    }
    // Typed into the address bar: the browser's user, not a page.
    expect((await rawRequest(`${dataPlane.endpoint}/2015-03-31/functions`, { headers: { 'Sec-Fetch-Site': 'none' } })).status).toBe(200);
  });

  describe('Host must name loopback (DNS rebinding)', () => {
    it.each(['rebind.attacker.example', 'rebind.attacker.example:PORT', 'localhost:1', '127.0.0.2:PORT', 'localhost.attacker.example:PORT', '[::2]:PORT'])(
      'refuses Host %s: an invoke runs nothing, an SQS call (moto) is not forwarded',
      async (template) => {
        const host = template.replace('PORT', String(dataPlane.edge.port));
        const before = runtime.invocationsOf('echo').length;
        const depth = await queueDepth();

        const invoke = await rawRequest(`${dataPlane.endpoint}/2015-03-31/functions/echo/invocations`, { method: 'POST', headers: { Host: host }, body: '{}' });
        const send = await rawRequest(`${dataPlane.endpoint}/`, {
          method: 'POST',
          headers: { Host: host, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ Action: 'SendMessage', QueueUrl: queueUrl, MessageBody: 'rebound' }).toString(),
        });

        for (const response of [invoke, send]) {
          expect(response.status).toBe(403);
          expect(JSON.parse(response.body)).toMatchObject({ __type: 'AccessDeniedException', message: expect.stringContaining(`Host: ${host}`) });
        }
        expect(runtime.invocationsOf('echo')).toHaveLength(before);
        expect(await queueDepth()).toBe(depth);
      },
    );

    it.each(['localhost', 'localhost:PORT', 'LocalHost:PORT', '127.0.0.1', '127.0.0.1:PORT', '[::1]:PORT'])('accepts Host %s', async (template) => {
      const host = template.replace('PORT', String(dataPlane.edge.port));
      const response = await rawRequest(`${dataPlane.endpoint}/2015-03-31/functions`, { headers: { Host: host } });

      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ Functions: [expect.objectContaining({ FunctionName: 'echo' })] });
    });
  });

  it('answers OPTIONS itself, with no Access-Control-* headers: a CORS preflight gets no permission', async () => {
    const preflight = {
      Origin: 'http://evil.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type,x-amz-target',
    };
    for (const path of ['/', '/2015-03-31/functions/echo/invocations', `/${ACCOUNT_ID}/${QUEUE}`]) {
      for (const headers of [preflight, {}]) {
        const response = await rawRequest(`${dataPlane.endpoint}${path}`, { method: 'OPTIONS', headers });
        expect(response.status, `OPTIONS ${path}`).toBe(403);
        expect(corsHeaders(response.headers), `OPTIONS ${path}`).toEqual([]);
        // The edge's own answer: moto would have sent XML.
        expect(JSON.parse(response.body)).toMatchObject({ __type: 'AccessDeniedException' });
      }
    }
  });

  it("refuses moto's management API (/moto-api/reset, data.json) in every spelling, and the queues stay", async () => {
    const paths = [
      '/moto-api/reset',
      '/moto-api/data.json',
      '/moto-api/',
      '/moto%2Dapi/reset',
      '/%6doto-api/reset',
      '//moto-api/reset',
      '/_localcloud/from/page/moto-api/reset',
    ];
    for (const path of paths) {
      const method = path.endsWith('data.json') ? 'GET' : 'POST';
      const response = await rawRequest(`${dataPlane.endpoint}${path}`, { method, headers: { 'Content-Type': 'text/plain' }, body: '' });
      expect(response.status, path).toBe(403);
      expect(JSON.parse(response.body), path).toMatchObject({ __type: 'AccessDeniedException', message: expect.stringContaining('/moto-api/') });
    }

    expect((await aws.sqs.send(new ListQueuesCommand({}))).QueueUrls).toContain(queueUrl);
    // moto itself still answers it, for the local cloud's own start-up probe.
    expect((await fetch(`${dataPlane.motoEndpoint}/moto-api/`)).ok).toBe(true);
  });

  it('moto itself runs with its global CORS off: it reflects no Origin even when asked directly', async () => {
    const response = await rawRequest(`${dataPlane.motoEndpoint}/`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });

    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(corsHeaders(response.headers)).toEqual([]);
  });

  it('serves the SDK path (no Origin, a loopback Host) as before: Lambda, DynamoDB and SQS, by 127.0.0.1 and by localhost', async () => {
    const localhost = dataPlane.endpoint.replace('127.0.0.1', 'localhost');
    for (const endpoint of [dataPlane.endpoint, localhost]) {
      const clients = testAws(endpoint);
      const sdkLambda = new LambdaClient(testClientConfig(endpoint, { maxAttempts: 1 }));
      try {
        const invoked = await sdkLambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ endpoint })) }));
        expect(JSON.parse(Buffer.from(invoked.Payload ?? []).toString())).toEqual({ event: { endpoint } });

        await clients.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(endpoint) } }));
        expect((await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(endpoint) } }))).Item).toEqual({ pk: s(endpoint) });

        const depth = await queueDepth();
        await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: endpoint }));
        expect(await queueDepth()).toBe(depth + 1);
      } finally {
        sdkLambda.destroy();
        clients.destroy();
      }
    }
  });
});

describe('edge: where it listens', () => {
  it.each(['0.0.0.0', '::', '192.0.2.1'])('refuses to listen on %s, a non-loopback address', async (host) => {
    await expect(Edge.start({ host, port: 0, upstream: 'http://127.0.0.1:1' })).rejects.toMatchObject({
      name: 'EdgeHostNotLoopbackError',
      message: expect.stringContaining(`listens on loopback only (127.0.0.1, ::1 or localhost), not on "${host}"`),
    });
  });
});
