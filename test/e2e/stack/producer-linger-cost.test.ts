import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { Producer } from '../../../client/producer.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { stackTarget, uniqueTopic } from './support.js';

const REPLICATION_FACTOR = 2;
const SENDS = 5;

/**
 * What the producer's linger saves, metered on DynamoDB Local: one-record sends made together
 * go in one produce call, so the log's write transactions are paid once for all of them
 * instead of once per send. Needs a metered cloud, so it starts its own from the same cloud
 * assembly (the shared target runs unmetered).
 *
 * The documented rules the units follow: a transactional write costs 2 WRU per item per
 * started KB, a standard conditional update 1 WRU per KB. A produce call of records this small
 * writes, per replica, one transaction of three items each under 1 KB (the log batch, the
 * replica state, the partition check), and then the partition's high watermark once, which
 * the ByLeader index projects: 1 index WRU more, counted in the write units as AWS bills it.
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
    await simulator.start(['linger-1', 'linger-2']);
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

  const oneCallUnits = 2 * 3 * REPLICATION_FACTOR + 1 + 1;

  it(`${SENDS} one-record sends made together cost one produce call's write units with the default linger, ${SENDS} calls' without`, async () => {
    const batched = new Producer(client);
    const unbatched = new Producer(client, { lingerMs: 0 });
    // Warm: metadata, producer ids and the functions' cold starts are not what is measured.
    await Promise.all([batched.send(topic, 1, [{ value: 'warm' }]), unbatched.send(topic, 1, [{ value: 'warm' }])]);

    const one = await produceUsage(() => unbatched.send(topic, 1, [{ value: 'one' }]));
    expect(one).toMatchObject({ writeUnits: oneCallUnits, indexWriteUnits: 1 });

    const separate = await produceUsage(() => Promise.all(Array.from({ length: SENDS }, (_, i) => unbatched.send(topic, 1, [{ value: `u${i}` }]))));
    const together = await produceUsage(() => Promise.all(Array.from({ length: SENDS }, (_, i) => batched.send(topic, 1, [{ value: `b${i}` }]))));
    console.log(`RF ${REPLICATION_FACTOR}, ${SENDS} one-record sends: ${separate.writeUnits} WRU + ${separate.readUnits} RRU in ${SENDS} calls (lingerMs 0), ${together.writeUnits} WRU + ${together.readUnits} RRU batched`);
    expect(separate.writeUnits).toBe(SENDS * oneCallUnits);
    expect(together.writeUnits).toBe(oneCallUnits);
    expect(together.readUnits * SENDS).toBe(separate.readUnits);
  });
});
