import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { Producer } from '../../../client/producer.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { itemSize, writeUnitsFor } from '../../../localcloud/billing/dynamodb-billing.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { stackTarget, uniqueTopic } from './support.js';

const REPLICATION_FACTOR = 2;
const SENDS = 5;

/**
 * What the producer's linger saves, metered on DynamoDB Local: one-record sends made together
 * go in one produce call, so the log's write transactions are paid once for all of them
 * instead of once per send. Needs a metered cloud, so it starts its own from the same cloud
 * assembly (the shared target runs unmetered).
 *
 * The documented rules the units follow: a standard write costs 1 WRU per started KB of the
 * item, a transactional one 2 WRU per item per started KB. A produce call writes, per replica,
 * its batch item (a standard put) and then commits it: on the leader a transaction of the
 * replica state and the partition check (two items under 1 KB), on each follower one
 * conditional update of its replica state (under 1 KB); then the partition's high watermark
 * once, which costs the ByLeader index nothing: it holds keys only, and the leader is not
 * among what changes (AWS bills an index write only where a projected attribute changes).
 */
const target = stackTarget();
describe.runIf(target.kind === 'embedded')('producer batching, metered', () => {
  let cloud: LocalCloud;
  let outputs: LeadershipStackOutputs;
  let client: LeadershipClient;
  let simulator: BrokerSimulator;
  const topic = uniqueTopic('linger-cost');

  beforeAll(async () => {
    cloud = await startLocalCloud({ port: 0, assemblyDir: target.assemblyDir!, ttlPeriodMs: 0, meterUsage: true });
    outputs = asLeadershipOutputs('PartitionLeadership', cloud.stacks[0]?.outputs);
    client = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: target.region });
    simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: registerCredentials(client) });
    await simulator.start(['linger-1', 'linger-2', 'linger-3']);
    await client.createTopic({ topic, partitions: 1, replicationFactor: REPLICATION_FACTOR, minInsyncReplicas: REPLICATION_FACTOR });
  });

  afterAll(async () => {
    await simulator?.stop();
    client?.close();
    await cloud?.stop();
  });

  /** The produce function's DynamoDB usage while `sends` runs (heartbeats and other functions left out). */
  async function produceUsage(sends: () => Promise<unknown>) {
    const usage = cloud.usage!;
    usage.reset();
    await sends();
    const byCaller = usage.report().dynamodb.byCaller;
    const produce = Object.entries(byCaller).find(([caller]) => caller.includes(outputs.ProduceFunctionName));
    expect(produce, `no DynamoDB usage by the produce function among ${Object.keys(byCaller).join(', ')}`).toBeDefined();
    return produce![1];
  }

  /** A produce call's write units when each replica's batch item costs `batchUnits`. */
  const callUnits = (replicationFactor: number, batchUnits: number) =>
    replicationFactor * batchUnits + 2 * 2 + (replicationFactor - 1) * 1 + 1;
  const oneCallUnits = callUnits(REPLICATION_FACTOR, 1);

  it(`${SENDS} one-record sends made together cost one produce call's write units with the default linger, ${SENDS} calls' without`, async () => {
    const batched = new Producer(client);
    const unbatched = new Producer(client, { lingerMs: 0 });
    // Warm: metadata, producer ids and the functions' cold starts are not what is measured.
    await Promise.all([batched.send(topic, 1, [{ value: 'warm' }]), unbatched.send(topic, 1, [{ value: 'warm' }])]);

    const one = await produceUsage(() => unbatched.send(topic, 1, [{ value: 'one' }]));
    expect(one).toMatchObject({ writeUnits: oneCallUnits, indexWriteUnits: 0 });

    const separate = await produceUsage(() => Promise.all(Array.from({ length: SENDS }, (_, i) => unbatched.send(topic, 1, [{ value: `u${i}` }]))));
    const together = await produceUsage(() => Promise.all(Array.from({ length: SENDS }, (_, i) => batched.send(topic, 1, [{ value: `b${i}` }]))));
    console.log(`RF ${REPLICATION_FACTOR}, ${SENDS} one-record sends: ${separate.writeUnits} WRU + ${separate.readUnits} RRU in ${SENDS} calls (lingerMs 0), ${together.writeUnits} WRU + ${together.readUnits} RRU batched`);
    expect(separate.writeUnits).toBe(SENDS * oneCallUnits);
    expect(together.writeUnits).toBe(oneCallUnits);
    expect(together.readUnits * SENDS).toBe(separate.readUnits);
  });

  it('a full batch of 16 x 1 KiB records at RF 3 costs RF times its batch item, plus a few units of commit and high watermark', async () => {
    const rf3 = uniqueTopic('rf3-cost');
    await client.createTopic({ topic: rf3, partitions: 1, replicationFactor: 3, minInsyncReplicas: 2 });
    const producer = new Producer(client, { lingerMs: 0 });
    await producer.send(rf3, 1, [{ value: 'warm' }]);
    const records = Array.from({ length: 16 }, (_, i) => ({ value: String(i % 10).repeat(1024) }));
    let sent: Awaited<ReturnType<Producer['send']>> | undefined;
    const usage = await produceUsage(async () => (sent = await producer.send(rf3, 1, records)));
    // The batch item as stored on the leader (the followers' copies are the same size but for the broker id).
    const dynamodb = new DynamoDBClient({ endpoint: cloud.endpoint, region: target.region });
    const { Items = [] } = await dynamodb.send(
      new QueryCommand({
        TableName: outputs.LogTableName,
        KeyConditionExpression: '#r = :r AND #o = :o',
        ExpressionAttributeNames: { '#r': 'replica', '#o': 'offset' },
        ExpressionAttributeValues: { ':r': { S: `${rf3}#1#${sent!.leader}` }, ':o': { N: String(sent!.baseOffset) } },
        ConsistentRead: true,
      }),
    );
    dynamodb.destroy();
    expect(Items).toHaveLength(1);
    const batchUnits = writeUnitsFor(itemSize(eventShape(Items[0])));
    console.log(`RF 3, 16 x 1 KiB in one call: ${usage.writeUnits} WRU (batch item ${batchUnits} WRU per replica; floor 3 x 16 = 48)`);
    expect(usage.writeUnits).toBe(callUnits(3, batchUnits));
  });
});
