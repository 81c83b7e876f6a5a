import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { pollUntil } from '../../../client/poll.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { stackTarget } from './support.js';

/**
 * The embedded cloud's TTL reaper: an expired heartbeat disappears within about a second
 * and the failure detector, triggered by the heartbeat table's stream, receives the
 * REMOVE. Needs a cloud whose reaper it controls, so it starts its own from the same
 * cloud assembly (the shared target runs with the reaper off).
 */
const target = stackTarget();
describe.runIf(target.kind === 'embedded')('TTL expiry on the embedded cloud', () => {
  let cloud: LocalCloud;
  let outputs: LeadershipStackOutputs;
  let dynamodb: DynamoDBClient;
  const logLines: string[] = [];

  beforeAll(async () => {
    cloud = await startLocalCloud({ port: 0, assemblyDir: target.assemblyDir!, ttlPeriodMs: 1000, logSink: (line) => logLines.push(line) });
    outputs = asLeadershipOutputs('PartitionLeadership', cloud.stacks[0]?.outputs);
    dynamodb = new DynamoDBClient({ endpoint: cloud.endpoint, region: target.region });
  });

  afterAll(async () => {
    dynamodb?.destroy();
    await cloud?.stop();
  });

  it('deletes a heartbeat whose expiresAt is in the past within 3 s, and the failure detector receives the REMOVE', async () => {
    const expiredAt = Date.now() - 5000;
    await dynamodb.send(
      new PutItemCommand({
        TableName: outputs.BrokersTableName,
        Item: {
          brokerId: { S: 'ttl-victim' },
          incarnation: { N: '1' },
          lastHeartbeatAt: { N: String(expiredAt - 3000) },
          deadlineMs: { N: String(expiredAt) },
          expiresAt: { N: String(Math.floor(expiredAt / 1000)) },
        },
      }),
    );
    const writtenAt = Date.now();
    await pollUntil(
      async () => {
        const { Item } = await dynamodb.send(new GetItemCommand({ TableName: outputs.BrokersTableName, Key: { brokerId: { S: 'ttl-victim' } }, ConsistentRead: true }));
        return Item === undefined;
      },
      { timeoutMs: 3000, intervalMs: 50, description: 'the expired heartbeat to be deleted' },
    );
    expect(Date.now() - writtenAt).toBeLessThan(3000);
    const received = await pollUntil(
      () => logLines.find((line) => line.includes(outputs.FailureDetectorFunctionName) && line.includes('REMOVE') && line.includes('ttl-victim')),
      { timeoutMs: 5000, description: 'the failure detector to log the REMOVE of ttl-victim' },
    );
    expect(received).toContain('ttl-victim');
  });
});
