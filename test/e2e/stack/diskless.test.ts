/**
 * A diskless topic on the deployed stack: a produce call's batches for several partitions
 * go to S3 as one object, and each replica's log holds only where its batch lies in it;
 * every record is consumed back, from a new leader too after the old one died (its log
 * items point into the same object); the orphan sweep deletes an object that no committed
 * batch points into and keeps the one that committed batches do.
 */
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { pollUntil } from '../../../client/poll.js';
import { S3ObjectStore } from '../../../functions/adapters/s3/object-store.js';
import { OBJECT_PREFIX } from '../../../functions/adapters/s3/keys.js';
import type { ProduceBatchesResponse, ProduceResponse } from '../../../protocol/messages.js';
import { E2E_DISKLESS_ORPHAN_AGE_MS } from './global-setup.js';
import { leadershipClient, partitionOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

const PARTITIONS = [1, 2, 3];
const RECORDS_PER_BATCH = 20;

describe('diskless topic on the stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const brokers = ['dl-1', 'dl-2', 'dl-3'];
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('diskless');
  const deadlineMs = target.sessionTimeoutMs * 8;
  const bucket = target.outputs.ObjectsBucketName;
  const s3 = new S3Client({ endpoint: target.endpoint, region: target.region });
  const dynamodb = new DynamoDBClient({ endpoint: target.endpoint, region: target.region });

  const objectKeys = async (): Promise<string[]> => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${OBJECT_PREFIX}/` }));
    return (listed.Contents ?? []).map((object) => object.Key!);
  };
  const exists = (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (error: { name?: string }) => (error.name === 'NotFound' ? false : Promise.reject(error as Error)),
    );
  const valuesOf = (partition: number) => Array.from({ length: RECORDS_PER_BATCH }, (_, i) => `p${partition}-r${i}-${'x'.repeat(100)}`);
  const consumeAll = async (partition: number) => (await client.consume({ topic, partition, offset: 0, maxRecords: 500 })).records;
  /** The object a replica's log item at `offset` points into. */
  const storedObjectOf = async (partition: number, replica: string, offset: number): Promise<string | undefined> => {
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: target.outputs.LogTableName, Key: { replica: { S: `${topic}#${partition}#${replica}` }, offset: { N: String(offset) } }, ConsistentRead: true }),
    );
    return Item?.stored?.M?.object?.S;
  };

  beforeAll(async () => {
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, deadlineMs);
    await client.createTopic({ topic, partitions: PARTITIONS.length, replicationFactor: 3, storage: 'diskless' });
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
    s3.destroy();
    dynamodb.destroy();
  });

  let committedObject: string;

  it('writes one produce call of several partitions as one object, and every replica of every partition points into it', async () => {
    const before = new Set(await objectKeys());
    const response: ProduceBatchesResponse = await client.invoke('produce', {
      acks: 'all',
      batches: PARTITIONS.map((partition) => ({ topic, partition, records: valuesOf(partition).map((value, i) => ({ key: `k${i}`, value })) })),
    });
    expect(response.results).toHaveLength(PARTITIONS.length);
    for (const [i, result] of response.results.entries()) {
      expect(result, JSON.stringify(result)).toMatchObject({ topic, partition: PARTITIONS[i], baseOffset: 0, lastOffset: RECORDS_PER_BATCH - 1 });
    }
    const written = (await objectKeys()).filter((key) => !before.has(key));
    expect(written).toHaveLength(1);
    committedObject = written[0];

    for (const partition of PARTITIONS) {
      const records = await consumeAll(partition);
      expect(records.map((record) => record.offset)).toEqual(valuesOf(partition).map((_, i) => i));
      expect(records.map((record) => record.value)).toEqual(valuesOf(partition));
      const view = partitionOf((await client.describe(topic)).topics[0].partitions, partition);
      for (const replica of view.Replicas) expect(await storedObjectOf(partition, replica, 0), `${partition} on ${replica}`).toBe(committedObject);
    }
  });

  it('serves the records from a new leader after the old one dies, from the same object', async () => {
    const before = partitionOf((await client.describe(topic)).topics[0].partitions, 1);
    const oldLeader = before.Leader!;
    await simulator.kill(oldLeader);
    const after = await pollUntil(
      async () => {
        const view = partitionOf((await client.describe(topic)).topics[0].partitions, 1);
        return view.Leader && view.Leader !== oldLeader && view.LeaderEpoch > before.LeaderEpoch ? view : undefined;
      },
      { timeoutMs: deadlineMs, intervalMs: 200, description: `a new leader of ${topic}-1 after ${oldLeader} died` },
    );
    const response = await client.consume({ topic, partition: 1, offset: 0, maxRecords: 500 });
    expect(response.leader).toBe(after.Leader);
    expect(response.records.map((record) => record.value)).toEqual(valuesOf(1));
    expect(await storedObjectOf(1, after.Leader!, 0)).toBe(committedObject);
    expect(await exists(committedObject)).toBe(true);
  });

  it('sweeps an orphan (an object whose batch never committed) and keeps the committed one; the partition takes appends after the fence', async () => {
    const view = partitionOf((await client.describe(topic)).topics[0].partitions, 2);
    const logEnd = view.HighWatermark;
    // As a produce that died after its PUT: a batch for partition 2's leader at its log end, never appended.
    const store = new S3ObjectStore(s3, { bucket }, { now: () => Date.now() });
    const [orphan] = await store.write([
      [{ topic, partition: 2, replica: view.Leader!, offset: logEnd, leaderEpoch: view.LeaderEpoch, key: null, value: 'never committed', appendedAt: Date.now(), copy: 'leader' }],
    ]);
    const orphanWrittenAt = Date.now();
    // Both objects are older than the orphan age once this passes (the committed one was written first).
    await pollUntil(() => Promise.resolve(Date.now() - orphanWrittenAt > E2E_DISKLESS_ORPHAN_AGE_MS + 1_500), {
      timeoutMs: E2E_DISKLESS_ORPHAN_AGE_MS * 3,
      intervalMs: 250,
      description: 'the orphan to be older than the orphan age',
    });
    const swept = await client.invoke('sweepObjects', {});
    expect(swept.deleted).toContain(orphan.object);
    expect(swept.deleted).not.toContain(committedObject);
    expect(swept.examined).toBeGreaterThanOrEqual(2);
    expect(await exists(orphan.object)).toBe(false);
    expect(await exists(committedObject)).toBe(true);

    for (const partition of PARTITIONS) expect((await consumeAll(partition)).map((record) => record.value)).toEqual(valuesOf(partition));
    // The fence started a new generation at partition 2's log end: appends go on there.
    const next: ProduceResponse = await client.produce({ topic, partition: 2, records: [{ key: null, value: 'after the sweep' }] });
    expect(next.baseOffset).toBe(logEnd);
    expect((await consumeAll(2)).at(-1)?.value).toBe('after the sweep');
  });
});
