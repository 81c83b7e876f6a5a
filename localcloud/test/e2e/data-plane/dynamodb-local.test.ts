/**
 * DynamoDB Local is reachable on 127.0.0.1 only. The jar on its own listens on every
 * interface, IPv4 and IPv6, where any host of the network can read and write every table
 * with any credentials (security finding H3).
 *
 * 127.0.0.2 stands for a LAN address: on Linux all of 127/8 reaches this host, so a
 * wildcard socket answers it and a socket bound to 127.0.0.1 refuses it. [::1] is the
 * IPv6 side of the same question. The host's own interface addresses, when it has any,
 * are the real thing.
 *
 * Loopback is not enough against web pages: a page in the developer's browser reaches
 * 127.0.0.1 after a port scan, and a DNS-rebinding page does so same-origin with its own
 * name in Host. So DynamoDB Local refuses what a browser sends (Origin, a foreign
 * Sec-Fetch-Site, OPTIONS, a non-loopback Host) and the SDKs and the edge's proxy never do.
 */
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../data-plane/dynamodb-local.js';
import { testClientConfig } from '../../../testing/aws.js';
import { rawRequest as rawRequestTo, type RawResponse } from '../../support/raw-http.js';

/** One DynamoDB Local for the file: a JVM start is seconds of CPU on a 2-core machine. */
let ddb: DynamoDbLocal;
beforeAll(async () => {
  ddb = await startDynamoDbLocal();
});
afterAll(async () => {
  await ddb?.stop();
});

describe('startDynamoDbLocal: on 127.0.0.1 and no other address', () => {
  it('answers ListTables on 127.0.0.1', async () => {
    const dynamodb = new DynamoDBClient(testClientConfig(ddb.endpoint));
    try {
      expect(ddb.endpoint).toBe(`http://127.0.0.1:${ddb.port}`);
      expect(await dynamodb.send(new ListTablesCommand({}))).toMatchObject({ TableNames: [] });
    } finally {
      dynamodb.destroy();
    }
  });

  it('refuses a connection to its port on 127.0.0.2', async (context) => {
    context.skip(!(await canListen('127.0.0.2')), 'this host does not route 127.0.0.2 to itself');
    expect(await connectOutcome('127.0.0.2', ddb.port)).toBe('ECONNREFUSED');
  });

  it('refuses a connection to its port on [::1]', async (context) => {
    context.skip(!(await canListen('::1')), 'this host has no IPv6 loopback');
    expect(await connectOutcome('::1', ddb.port)).toBe('ECONNREFUSED');
  });

  it("is not reachable on the host's network addresses", async () => {
    const addresses = Object.values(networkInterfaces())
      .flatMap((infos) => infos ?? [])
      .filter((info) => !info.internal && !info.address.startsWith('fe80:')) // link-local needs a zone to connect
      .map((info) => info.address);
    const reachable: string[] = [];
    for (const address of addresses) if ((await connectOutcome(address, ddb.port)) === 'connected') reachable.push(address);
    expect(reachable).toEqual([]);
  });
});

describe('startDynamoDbLocal: refuses what a web page sends', () => {
  let dynamodb: DynamoDBClient;
  beforeAll(() => {
    dynamodb = new DynamoDBClient(testClientConfig(ddb.endpoint));
  });
  afterAll(() => {
    dynamodb?.destroy();
  });

  it('refuses a ListTables with an Origin header with 403 and no CORS header', async () => {
    const response = await ddbCall(ddb.port, 'ListTables', {}, { Origin: 'http://evil.example' });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ __type: 'AccessDeniedException', message: expect.stringContaining('Origin: http://evil.example') });
    expect(corsHeaders(response.headers)).toEqual({});
  });

  it('writes nothing for a PutItem with an Origin header', async () => {
    const TableName = 'origin-put';
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    try {
      const Item = { id: { S: 'evil' }, deadlineMs: { N: '9999999999999' } };
      const response = await ddbCall(ddb.port, 'PutItem', { TableName, Item }, { Origin: 'http://evil.example' });
      const stored = await dynamodb.send(new GetItemCommand({ TableName, Key: { id: { S: 'evil' } }, ConsistentRead: true }));
      expect({ status: response.status, stored: stored.Item }).toEqual({ status: 403, stored: undefined });
    } finally {
      await dynamodb.send(new DeleteTableCommand({ TableName }));
    }
  });

  it('answers a CORS preflight (OPTIONS) with 403 and no Access-Control-* header', async () => {
    const response = await rawRequest(ddb.port, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://evil.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-amz-target',
      },
    });
    expect(response.status).toBe(403);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(corsHeaders(response.headers)).toEqual({});
  });

  it('refuses an OPTIONS request with no Origin', async () => {
    expect((await rawRequest(ddb.port, { method: 'OPTIONS' })).status).toBe(403);
  });

  it('refuses a request a browser marks cross-site or same-site (Sec-Fetch-Site), even with no Origin', async () => {
    for (const site of ['cross-site', 'same-site']) {
      expect((await ddbCall(ddb.port, 'ListTables', {}, { 'Sec-Fetch-Site': site })).status, site).toBe(403);
    }
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding)', async () => {
    for (const host of [`evil.example:${ddb.port}`, 'evil.example', `127.0.0.1.evil.example:${ddb.port}`, `localhost.:${ddb.port}`]) {
      const response = await ddbCall(ddb.port, 'ListTables', {}, { Host: host });
      expect(response.status, host).toBe(403);
      expect(JSON.parse(response.body), host).toMatchObject({ __type: 'AccessDeniedException' });
    }
  });

  it('still answers the SDK, and a loopback Host with any port (the edge forwards its client\'s, e.g. localhost:4566)', async () => {
    expect(await dynamodb.send(new ListTablesCommand({}))).toHaveProperty('TableNames');
    for (const host of [`127.0.0.1:${ddb.port}`, 'localhost:4566', `LOCALHOST:${ddb.port}`, `[::1]:${ddb.port}`, '127.0.0.1', 'localhost']) {
      const response = await ddbCall(ddb.port, 'ListTables', {}, { Host: host, 'Sec-Fetch-Site': 'same-origin' });
      expect(response.status, host).toBe(200);
    }
  });
});

/** One HTTP request to 127.0.0.1:port, headers as given (Host too: fetch cannot set it). */
function rawRequest(port: number, options: { method: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return rawRequestTo(`http://127.0.0.1:${port}/`, { ...options, headers: { Host: `127.0.0.1:${port}`, ...options.headers } });
}

/** A DynamoDB JSON call as a page would forge it: any credential scope is taken, the signature is never checked. */
async function ddbCall(port: number, action: string, input: object, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(port, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `DynamoDB_20120810.${action}`,
      Authorization: 'AWS4-HMAC-SHA256 Credential=evil/20261207/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      ...headers,
    },
    body: JSON.stringify(input),
  });
}

function corsHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')));
}

/** Whether this host has `host` as one of its own addresses (a server can listen on it). */
async function canListen(host: string): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}

/** 'connected', or the error code of the failed connection ('ECONNREFUSED', 'ETIMEDOUT', ...). */
async function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
