import net from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { startMoto } from '../../../localcloud/moto.js';
import { testClientConfig } from '../../support/aws.js';

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

function connect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
