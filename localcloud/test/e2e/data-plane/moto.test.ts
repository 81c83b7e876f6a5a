import http from 'node:http';
import net from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Edge } from '../../../edge/edge.js';
import { startMoto, type MotoServer } from '../../../data-plane/moto.js';
import { ACCOUNT_ID, REGION, testClientConfig } from '../../../testing/aws.js';
import { rawRequest as rawRequestTo, type RawResponse } from '../../support/raw-http.js';

describe('startMoto', () => {
  it('serves AWS APIs on a free port of 127.0.0.1 until stopped, then frees it', async () => {
    const moto = await startMoto();
    const dynamodb = new DynamoDBClient(testClientConfig(moto.endpoint));
    try {
      expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
      expect(await dynamodb.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
    } finally {
      dynamodb.destroy();
      await moto.stop();
    }

    await moto.stop(); // idempotent
    expect(() => process.kill(moto.pid, 0)).toThrow();
    await expect(connect(moto.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe("moto's SQS with the embedded cloud's patch (localcloud/moto-patches)", () => {
  it('keeps FIFO semantics: deduplication by id and by content, a refused message without either, every attribute listed', async () => {
    const moto = await startMoto();
    const sqs = new SQSClient(testClientConfig(moto.endpoint));
    try {
      const { QueueUrl: byId } = await sqs.send(new CreateQueueCommand({ QueueName: 'events.fifo', Attributes: { FifoQueue: 'true' } }));
      // Many message groups, as the failure detector publishes: one per partition.
      for (let base = 0; base < 300; base += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: byId,
            Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${base + i}`, MessageGroupId: `g${base + i}`, MessageDeduplicationId: `d${base + i}` })),
          }),
        );
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: byId, MessageBody: 'repeat of d7', MessageGroupId: 'g7', MessageDeduplicationId: 'd7' }));
      await expect(sqs.send(new SendMessageCommand({ QueueUrl: byId, MessageBody: 'no id', MessageGroupId: 'g1' }))).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: ['All'] }));
      expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '300', FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue' });
      // Attributes asked for by name (as moto's ReceiveMessage asks for MessageRetentionPeriod) are the full listing's.
      const named: QueueAttributeName[] = ['MessageRetentionPeriod', 'VisibilityTimeout', 'DelaySeconds', 'ApproximateNumberOfMessages', 'FifoQueue', 'DeduplicationScope'];
      const { Attributes: byName } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: named }));
      expect(byName).toEqual(Object.fromEntries(named.map((name) => [name, Attributes?.[name]])));
      // Receiving hands out one message per group, and a delete takes them off the count.
      const { Messages: received = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: byId, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId'] }));
      expect(new Set(received.map((message) => message.Attributes?.MessageGroupId)).size).toBe(10);
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: byId, Entries: received.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })) }),
      );
      const { Attributes: afterDelete } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: byId, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      expect(afterDelete).toEqual({ ApproximateNumberOfMessages: '290', ApproximateNumberOfMessagesNotVisible: '0' });

      const { QueueUrl: byContent } = await sqs.send(
        new CreateQueueCommand({ QueueName: 'content.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }),
      );
      await sqs.send(new SendMessageCommand({ QueueUrl: byContent, MessageBody: 'same', MessageGroupId: 'g' }));
      await sqs.send(new SendMessageCommand({ QueueUrl: byContent, MessageBody: 'same', MessageGroupId: 'g' }));
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: byContent, MaxNumberOfMessages: 10 }));
      expect(Messages?.map((message) => message.Body)).toEqual(['same']);

      const { QueueUrl: standard } = await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }));
      const { Attributes: plain } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: standard, AttributeNames: ['All'] }));
      expect(plain).not.toHaveProperty('FifoQueue');
      expect(plain).not.toHaveProperty('ContentBasedDeduplication');
      const { Attributes: plainByName } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: standard, AttributeNames: ['FifoQueue', 'MessageRetentionPeriod'] }));
      expect(plainByName).toEqual({ MessageRetentionPeriod: plain?.MessageRetentionPeriod });
    } finally {
      sqs.destroy();
      await moto.stop();
    }
  });
});

/**
 * moto's own port is as reachable from a web page as the edge: a port scan finds it, and a
 * DNS-rebinding page reaches it same-origin with its own host name in Host. So moto refuses
 * (moto-patches/sitecustomize.py) what the edge and DynamoDB Local refuse: a non-loopback
 * Host, any Origin, a foreign Sec-Fetch-Site, OPTIONS. The SDK path through the edge (which
 * forwards its client's Host, e.g. localhost:4566) and moto.ts's own probe keep working.
 */
describe("moto's own port: loopback callers only (localcloud/moto-patches)", () => {
  let moto: MotoServer;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient(testClientConfig(moto.endpoint));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'stays' }))).QueueUrl ?? '';
  });

  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  const queueDepth = async (): Promise<number> => {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(Attributes?.ApproximateNumberOfMessages);
  };

  const refusal = (response: RawResponse, message: string) => {
    expect(response.status).toBe(403);
    expect(response.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(corsHeaders(response.headers)).toEqual([]);
    expect(JSON.parse(response.body)).toEqual({ __type: 'AccessDeniedException', message: expect.stringContaining(message) });
  };

  it.each(['evil.example:PORT', 'evil.example', '127.0.0.1.evil.example:PORT', 'localhost.:PORT', '127.0.0.2:PORT'])(
    'refuses Host %s (DNS rebinding): ListQueues and /moto-api/reset get 403, and the queues stay',
    async (template) => {
      const host = template.replace('PORT', String(moto.port));

      const list = await sqsQuery(moto.port, 'ListQueues', {}, { Host: host });
      refusal(list, `Host: ${host}`);
      expect(list.body).not.toContain('stays');
      refusal(await rawRequest(moto.port, { method: 'POST', path: '/moto-api/reset', headers: { Host: host, 'Content-Type': 'text/plain' } }), `Host: ${host}`);

      expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toContain(queueUrl);
    },
  );

  it.each(['http://evil.example', 'null', `http://127.0.0.1`])('refuses a request with Origin %s: nothing is read or queued', async (origin) => {
    const depth = await queueDepth();

    const list = await sqsQuery(moto.port, 'ListQueues', {}, { Origin: origin });
    refusal(list, `Origin: ${origin}`);
    expect(list.body).not.toContain('stays');
    refusal(await sqsQuery(moto.port, 'SendMessage', { QueueUrl: queueUrl, MessageBody: 'from a page' }, { Origin: origin }), `Origin: ${origin}`);
    refusal(await rawRequest(moto.port, { method: 'POST', path: '/moto-api/reset', headers: { Origin: origin, 'Content-Type': 'text/plain' } }), 'Origin');

    expect(await queueDepth()).toBe(depth);
    expect((await sqs.send(new ListQueuesCommand({}))).QueueUrls).toContain(queueUrl);
  });

  it("refuses a request a browser makes for another site's page without an Origin (Sec-Fetch-Site cross-site, same-site)", async () => {
    for (const site of ['cross-site', 'same-site']) {
      refusal(await rawRequest(moto.port, { method: 'GET', path: '/moto-api/data.json', headers: { 'Sec-Fetch-Site': site } }), `Sec-Fetch-Site: ${site}`);
    }
  });

  it('refuses OPTIONS, a CORS preflight or not, with 403 and no Access-Control-* header', async () => {
    const preflight = { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' };
    for (const path of ['/', '/moto-api/reset', `/${ACCOUNT_ID}/stays`]) {
      for (const headers of [preflight, {}]) {
        const response = await rawRequest(moto.port, { method: 'OPTIONS', path, headers });
        expect(response.status, `OPTIONS ${path}`).toBe(403);
        expect(corsHeaders(response.headers), `OPTIONS ${path}`).toEqual([]);
        expect(JSON.parse(response.body), `OPTIONS ${path}`).toMatchObject({ __type: 'AccessDeniedException' });
      }
    }
  });

  it("still serves the SDK through the edge (moto's queue URLs name the edge's Host) and moto.ts's own /moto-api/ probe", async () => {
    // moto.ts's start-up probe: fetch on moto's own port, loopback Host, no Origin.
    expect((await fetch(`${moto.endpoint}/moto-api/`)).ok).toBe(true);
    // A loopback name with any port: the edge forwards its client's Host.
    for (const host of [`127.0.0.1:${moto.port}`, 'localhost:4566', `LOCALHOST:${moto.port}`, `[::1]:${moto.port}`, '127.0.0.1', 'localhost']) {
      const response = await sqsQuery(moto.port, 'ListQueues', {}, { Host: host, 'Sec-Fetch-Site': 'same-origin' });
      expect(response.status, host).toBe(200);
      expect(response.body, host).toContain('stays');
    }

    const edge = await Edge.start({ port: 0, upstream: moto.endpoint });
    const viaEdge = new SQSClient(testClientConfig(`http://localhost:${edge.port}`));
    try {
      const { QueueUrl } = await viaEdge.send(new CreateQueueCommand({ QueueName: 'via-edge' }));
      expect(QueueUrl).toBe(`http://localhost:${edge.port}/${ACCOUNT_ID}/via-edge`);
      await viaEdge.send(new SendMessageCommand({ QueueUrl, MessageBody: 'through the edge' }));
      const { Messages } = await viaEdge.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
      expect(Messages?.map((message) => message.Body)).toEqual(['through the edge']);
    } finally {
      viaEdge.destroy();
      await edge.close();
    }
  });
});

/** One HTTP request to moto's port with the headers given (Host too, which fetch cannot set); Host defaults to 127.0.0.1:port. */
function rawRequest(port: number, options: { method: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return rawRequestTo(`http://127.0.0.1:${port}${options.path ?? '/'}`, { ...options, headers: { Host: `127.0.0.1:${port}`, ...options.headers } });
}

/** An SQS Query call as a page would forge it: moto routes by the credential scope and never checks the signature. */
function sqsQuery(port: number, action: string, params: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(port, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `AWS4-HMAC-SHA256 Credential=test/20261207/${REGION}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
      ...headers,
    },
    body: new URLSearchParams({ Action: action, ...params }).toString(),
  });
}

function corsHeaders(headers: http.IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'));
}

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
