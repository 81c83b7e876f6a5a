import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { Producer } from '../../../client/producer.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { itemSize, writeUnitsFor } from '../../../localcloud/billing/dynamodb-billing.js';
import type { CapacityUsage } from '../../../localcloud/billing/usage-meter.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { stackTarget, uniqueTopic } from './support.js';

const REPLICATION_FACTOR = 3;
const PARTITIONS = 4;
const SENDS_PER_PARTITION = 6;
const RECORDS_PER_SEND = 16;

/**
 * Who copies what, metered on DynamoDB Local with the log stream's replicate function
 * running: an acks=all produce call copies its batch to the in-sync followers and commits it
 * itself, and marks it so (LogRecord.writerCopies) that the log stream's filter never even
 * delivers it to the replicate function, so no copy is raced or paid twice and the stream
 * path costs nothing for it. acks=1 batches are the stream path's to copy.
 *
 * The documented rules the units follow (see producer-linger-cost.test.ts): per produce call,
 * each replica's batch item once (1 WRU per started KB), the leader's commit (a transaction of
 * two items under 1 KB: 2 x 2 WRU), each follower's commit (one update under 1 KB: 1 WRU) and
 * the high watermark (1 WRU; the keys-only ByLeader index is not written).
 */
const target = stackTarget();
describe.runIf(target.kind === 'embedded')('replication with the stream path running, metered', () => {
  let cloud: LocalCloud;
  let outputs: LeadershipStackOutputs;
  let client: LeadershipClient;
  let simulator: BrokerSimulator;
  const topic = uniqueTopic('race-cost');
  /** Records the replicate function reported handling, of this test's topic. */
  let replicatedRecords = 0;

  beforeAll(async () => {
    cloud = await startLocalCloud({
      port: 0,
      assemblyDir: target.assemblyDir!,
      ttlPeriodMs: 0,
      meterUsage: true,
      logSink: (line) => {
        const json = line.indexOf('{');
        if (json < 0 || !line.includes('"replicated"')) return;
        try {
          const entry = JSON.parse(line.slice(json)) as { message?: string; topic?: string; count?: number };
          if (entry.message !== 'replicated' || entry.topic !== topic) return;
          replicatedRecords += entry.count ?? 0;
        } catch {
          // Not a structured line: not the replicate function's report.
        }
      },
    });
    outputs = asLeadershipOutputs('PartitionLeadership', cloud.stacks[0]?.outputs);
    client = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: target.region });
    simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: registerCredentials(client) });
    await simulator.start(['race-1', 'race-2', 'race-3']);
    await client.createTopic({ topic, partitions: PARTITIONS, replicationFactor: REPLICATION_FACTOR, minInsyncReplicas: 2 });
  });

  afterAll(async () => {
    await simulator?.stop();
    client?.close();
    await cloud?.stop();
  });

  const callerUsage = (byCaller: Record<string, CapacityUsage>, functionName: string): CapacityUsage | undefined =>
    Object.entries(byCaller).find(([caller]) => caller.includes(functionName))?.[1];

  /** The write units of every leader batch item of the topic from `from` on (any generation of the leader's log). */
  async function leaderBatchUnits(from: Map<number, number>): Promise<number[]> {
    const dynamodb = new DynamoDBClient({ endpoint: cloud.endpoint, region: target.region });
    try {
      const items = [];
      for await (const page of paginateScan(
        { client: dynamodb },
        {
          TableName: outputs.LogTableName,
          FilterExpression: '#t = :t AND #c = :leader',
          ExpressionAttributeNames: { '#t': 'topic', '#c': 'copy' },
          ExpressionAttributeValues: { ':t': { S: topic }, ':leader': { S: 'leader' } },
          ConsistentRead: true,
        },
      )) {
        items.push(...(page.Items ?? []));
      }
      return items
        .filter((item) => Number(item.offset.N) >= from.get(Number(item.partition.N))!)
        .map((item) => writeUnitsFor(itemSize(eventShape(item))));
    } finally {
      dynamodb.destroy();
    }
  }

  it('a burst of full 16 KiB acks=all batches at RF 3 bills each copy once, and the stream path is not invoked for them', async () => {
    const value = 'x'.repeat(1024);
    const partitions = Array.from({ length: PARTITIONS }, (_, i) => i + 1);
    const producers = partitions.map(() => new Producer(client));
    // Warm: producer ids, metadata and cold starts are not what is measured.
    const warm = await Promise.all(partitions.map((partition, i) => producers[i].send(topic, partition, [{ value }])));
    const epochs = warm.map((sent) => `${sent.leader}@${sent.leaderEpoch}`);
    const from = new Map(warm.map((sent, i) => [partitions[i], sent.lastOffset + 1]));

    const usage = cloud.usage!;
    usage.reset();
    const replicatedBefore = replicatedRecords;
    const sent = await Promise.all(
      partitions.map(async (partition, i) => {
        let last = warm[i];
        for (let send = 0; send < SENDS_PER_PARTITION; send++) {
          last = await producers[i].send(topic, partition, Array.from({ length: RECORDS_PER_SEND }, () => ({ value })));
        }
        return last;
      }),
    );
    const produced = PARTITIONS * SENDS_PER_PARTITION * RECORDS_PER_SEND;
    const report = usage.report();
    const produceUsage = callerUsage(report.dynamodb.byCaller, outputs.ProduceFunctionName)!;
    const replicateUsage = callerUsage(report.dynamodb.byCaller, outputs.ReplicateFunctionName);
    const calls = report.lambda.byFunction[outputs.ProduceFunctionName]?.invocations ?? 0;
    const batchUnits = await leaderBatchUnits(from);
    const documented = batchUnits.reduce((sum, units) => sum + REPLICATION_FACTOR * units + 2 * 2 + (REPLICATION_FACTOR - 1) * 1 + 1, 0);
    console.log(
      `RF ${REPLICATION_FACTOR}, ${calls} produce calls of ${RECORDS_PER_SEND} x 1 KiB: ${produceUsage.writeUnits} WRU ` +
        `(${(produceUsage.writeUnits / produced).toFixed(2)} per record; documented ${documented}), ${produceUsage.readUnits} RRU; ` +
        `replicate invocations ${report.lambda.byFunction[outputs.ReplicateFunctionName]?.invocations ?? 0}`,
    );
    // The formula holds for produce calls that each appended one batch under the leadership they started with.
    const leadersAfter = (await Promise.all(partitions.map((partition, i) => producers[i].send(topic, partition, [{ value }])))).map((ack) => `${ack.leader}@${ack.leaderEpoch}`);
    expect(leadersAfter, 'leadership moved during the burst (a lease lapsed on a loaded machine): not the steady state measured here').toEqual(epochs);
    expect(batchUnits).toHaveLength(calls);
    expect(sent.every((ack) => ack.highWatermark === ack.lastOffset + 1)).toBe(true);
    expect(produceUsage.refusedWrites).toBe(0);
    expect(produceUsage.writeUnits).toBe(documented);
    expect(replicateUsage, 'the replicate function touched DynamoDB for batches their writer copies').toBeUndefined();
    expect(replicatedRecords).toBe(replicatedBefore);
  });

  it('copies acks=1 batches through the log stream, and the high watermark reaches them', async () => {
    const value = 'y'.repeat(1024);
    const producer = new Producer(client);
    const before = replicatedRecords;
    const acks = await Promise.all(
      Array.from({ length: 4 }, (_, i) => producer.send(topic, (i % PARTITIONS) + 1, Array.from({ length: 4 }, () => ({ value })), { acks: 1 })),
    );
    await pollUntil(() => replicatedRecords - before >= 16, { timeoutMs: 30_000, intervalMs: 100, description: 'the stream path to copy the acks=1 batches' });
    await pollUntil(
      async () => {
        const partitionsNow = (await client.describe(topic)).topics[0]?.partitions ?? [];
        return acks.every((ack) => (partitionsNow.find((p) => p.Partition === ack.partition)?.HighWatermark ?? 0) > ack.lastOffset);
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the high watermark to pass the acks=1 batches' },
    );
  });
});
