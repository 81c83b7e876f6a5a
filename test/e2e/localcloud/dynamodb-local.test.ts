/**
 * DynamoDB Local is reachable on 127.0.0.1 only. The jar on its own listens on every
 * interface, IPv4 and IPv6, where any host of the network can read and write every table
 * with any credentials (security finding H3).
 *
 * 127.0.0.2 stands for a LAN address: on Linux all of 127/8 reaches this host, so a
 * wildcard socket answers it and a socket bound to 127.0.0.1 refuses it. [::1] is the
 * IPv6 side of the same question. The host's own interface addresses, when it has any,
 * are the real thing.
 */
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../localcloud/dynamodb-local.js';
import { testClientConfig } from '../../support/aws.js';

describe('startDynamoDbLocal: on 127.0.0.1 and no other address', () => {
  let ddb: DynamoDbLocal;
  beforeAll(async () => {
    ddb = await startDynamoDbLocal();
  });
  afterAll(async () => {
    await ddb?.stop();
  });

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
