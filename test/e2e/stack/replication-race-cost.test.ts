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
import type { ReplicateResult } from '../../../functions/domain/replicate.js';
import { eventShape } from '../../support/dynamodb-items.js';
import { stackTarget, uniqueTopic } from './support.js';

const REPLICATION_FACTOR = 3;
const PARTITIONS = 4;
const SENDS_PER_PARTITION = 6;
const RECORDS_PER_SEND = 16;

/**
 * What replication costs with the log stream's replicate function running beside the produce
 * calls, metered on DynamoDB Local: acks=all produce calls copy their batch to the in-sync
 * followers themselves, and the stream path must not pay for those copies a second time (a
 * conditional put refused because the produce call's copy took the offset is billed at the
 * item's size, as AWS bills a failed conditional write).
 *
 * The documented rules the units follow (see producer-linger-cost.test.ts): per produce call,
 * each replica's batch item once (1 WRU per started KB), the leader's commit (a transaction of
 * two items under 1 KB: 2 x 2 WRU), each follower's commit (one update under 1 KB: 1 WRU), the
 * high watermark (1 WRU) and the ByLeader index's copy of it (1 WRU). The stream path then
 * only reads, but for the high watermark: when it finds the records copied before the produce
 * call recorded them, both may go to record it, and the loser's conditional update of the
 * partition item (under 1 KB) is refused and billed 1 WRU.
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
  /** Copies in flight the replicate function took over once in doubt (their writers stalled past IN_DOUBT_BATCH_AGE_MS). */
  let copiesTakenOver = 0;

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
          const entry = JSON.parse(line.slice(json)) as { message?: string; topic?: string; count?: number; result?: ReplicateResult };
          if (entry.message !== 'replicated' || entry.topic !== topic) return;
          replicatedRecords += entry.count ?? 0;
          copiesTakenOver += (entry.result?.partitions ?? []).reduce((sum, p) => sum + (p.copiesTakenOver ?? 0), 0);
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

  it('a burst of full 16 KiB batches at RF 3 bills each copy once: the stream path races no copy in flight, it only takes over one whose writer stalled', async () => {
    const value = 'x'.repeat(1024);
    const partitions = Array.from({ length: PARTITIONS }, (_, i) => i + 1);
    const producers = partitions.map(() => new Producer(client));
    // Warm: producer ids, metadata and cold starts are not what is measured.
    const warm = await Promise.all(partitions.map((partition, i) => producers[i].send(topic, partition, [{ value }])));
    const epochs = warm.map((sent) => `${sent.leader}@${sent.leaderEpoch}`);
    const from = new Map(warm.map((sent, i) => [partitions[i], sent.lastOffset + 1]));
    await pollUntil(() => replicatedRecords >= PARTITIONS, { timeoutMs: 60_000, intervalMs: 100, description: 'the warm-up to be replicated by the stream path' });

    const usage = cloud.usage!;
    usage.reset();
    const replicatedBefore = replicatedRecords;
    copiesTakenOver = 0;
    await Promise.all(
      partitions.map(async (partition, i) => {
        for (let send = 0; send < SENDS_PER_PARTITION; send++) {
          await producers[i].send(topic, partition, Array.from({ length: RECORDS_PER_SEND }, () => ({ value })));
        }
      }),
    );
    const produced = PARTITIONS * SENDS_PER_PARTITION * RECORDS_PER_SEND;
    // Every leader append reaches the stream path: the meter is read once it handled them all.
    await pollUntil(() => replicatedRecords - replicatedBefore >= produced, {
      timeoutMs: 120_000,
      intervalMs: 100,
      description: `the stream path to handle all ${produced} records`,
    });
    const report = usage.report();
    const produceUsage = callerUsage(report.dynamodb.byCaller, outputs.ProduceFunctionName)!;
    const replicateUsage = callerUsage(report.dynamodb.byCaller, outputs.ReplicateFunctionName) ?? { writeUnits: 0, refusedWriteUnits: 0, refusedWrites: 0, readUnits: 0 };
    const calls = report.lambda.byFunction[outputs.ProduceFunctionName]?.invocations ?? 0;

    const batchUnits = await leaderBatchUnits(from);
    const documented = batchUnits.reduce((sum, units) => sum + REPLICATION_FACTOR * units + 2 * 2 + (REPLICATION_FACTOR - 1) * 1 + 1 + 1, 0);
    const writeUnits = produceUsage.writeUnits + replicateUsage.writeUnits;
    console.log(
      `RF ${REPLICATION_FACTOR}, ${calls} produce calls of ${RECORDS_PER_SEND} x 1 KiB: ${writeUnits} WRU (${(writeUnits / produced).toFixed(2)} per record; ` +
        `documented ${documented}, ${(documented / produced).toFixed(2)} per record); produce ${produceUsage.writeUnits} WRU ` +
        `(${produceUsage.refusedWrites} refused, ${produceUsage.refusedWriteUnits} WRU), replicate ${replicateUsage.writeUnits} WRU ` +
        `(${replicateUsage.refusedWrites} refused, ${replicateUsage.refusedWriteUnits} WRU), ${replicateUsage.readUnits} RRU; ` +
        `replicate invocations ${report.lambda.byFunction[outputs.ReplicateFunctionName]?.invocations ?? 0}`,
    );
    const replicateRuns = report.lambda.byFunction[outputs.ReplicateFunctionName];
    console.log(`replicate: ${replicateRuns?.invocations ?? 0} invocations, ${replicateRuns?.gbSeconds.toFixed(2) ?? 0} GB-s; leader batch items ${batchUnits.length}`);
    // The formula holds for produce calls that each appended one batch under the leadership they started with.
    const leadersAfter = (await Promise.all(partitions.map((partition, i) => producers[i].send(topic, partition, [{ value }])))).map((sent) => `${sent.leader}@${sent.leaderEpoch}`);
    expect(leadersAfter, 'leadership moved during the burst (a lease lapsed on a loaded machine): not the steady state measured here').toEqual(epochs);
    expect(batchUnits).toHaveLength(calls);
    // A refused write of an item under 1 KB (1 WRU) is the high watermark, which both copiers may
    // go to record (at most once per produce call), or a take-over's new generation refused by the
    // commit it was too early for. A refused batch put is a take-over's only: the stream path never
    // races a copy in flight, but takes it over once in doubt (IN_DOUBT_BATCH_AGE_MS), which a
    // produce call on a loaded emulator sometimes outlasts between its put and its commit.
    const refusedWrites = produceUsage.refusedWrites + replicateUsage.refusedWrites;
    const refusedUnits = produceUsage.refusedWriteUnits + replicateUsage.refusedWriteUnits;
    const batchItemUnits = Math.max(...batchUnits);
    const refusedPuts = Math.round((refusedUnits - refusedWrites) / (batchItemUnits - 1));
    console.log(`refused: ${refusedWrites} writes of ${refusedUnits} WRU (${refusedPuts} batch puts); copies taken over ${copiesTakenOver}`);
    expect(refusedPuts).toBeLessThanOrEqual(copiesTakenOver);
    expect(refusedWrites - refusedPuts).toBeLessThanOrEqual(calls + copiesTakenOver);
    // At most: the documented units plus what was refused (a high watermark the reconciler's schedule
    // recorded first is left out of both copiers' bills, hence not exactly).
    expect(writeUnits).toBeLessThanOrEqual(documented + refusedUnits);
  });
});
