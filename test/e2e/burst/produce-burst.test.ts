/**
 * The embedded cloud under a produce burst, as `npm start -- --no-demo --session-timeout-ms 3000`
 * runs it: brokers x and y heartbeat every second; one partition, replication factor 2;
 * 8 producers (each its own client) send 10 single-record produces each, all at once,
 * through the produce Lambda. Then:
 * - every produce was acknowledged with an offset of its own, or refused with a
 *   retriable error (Kafka's: the client would retry), never anything else;
 * - the partition still takes writes; consume returns exactly the acknowledged records,
 *   once each, at contiguous offsets; the high watermark reaches the leader's log end;
 * - no failover: same leader, epoch 0, both replicas in sync, no lease lapsed;
 * - every heartbeat during the burst was answered within the session timeout less one
 *   interval, so no lease could lapse for want of service. How fast they were answered is a
 *   speed goal, measured by `npm run bench:throughput` (heartbeat p99 against 10 % of the
 *   session timeout); here it is only printed.
 */
import path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/cloud.js';
import { summarize } from '../../../tools/stats.js';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { LeadershipClient, RemoteFunctionError, type ProduceResponse } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { useDummyCredentialsIfUnset } from '../../../tools/local-env.js';
import { repoRoot, synthesize } from '../../../tools/synth.js';
import { testClientConfig } from '../../../localcloud/testing/aws.js';

const SESSION_TIMEOUT_MS = 3000;
const HEARTBEAT_INTERVAL_MS = 1000;
const PRODUCERS = 8;
const PRODUCES_EACH = 10;
const STACK = 'PartitionLeadershipBurst';
const TOPIC = 'burst';
/** Kafka's retriable produce errors, as the produce function names them. */
const RETRIABLE = new Set(['StaleEpochError', 'NotLeaderError', 'PartitionOfflineError', 'NotEnoughReplicasError']);

/** A broker's client that times each heartbeat round trip. */
class TimedHeartbeatClient extends LeadershipClient {
  readonly samples: Array<{ at: number; ms: number }> = [];
  override async heartbeat(brokerId: string, credential: string, incarnation?: number) {
    const started = performance.now();
    try {
      return await super.heartbeat(brokerId, credential, incarnation);
    } finally {
      this.samples.push({ at: Date.now(), ms: performance.now() - started });
    }
  }
}

describe(`a burst of ${PRODUCERS} x ${PRODUCES_EACH} produces to one RF 2 partition (session timeout ${SESSION_TIMEOUT_MS} ms)`, () => {
  let cloud: LocalCloud;
  let outputs: LeadershipStackOutputs;
  let brokers: TimedHeartbeatClient;
  let admin: LeadershipClient;
  let simulator: BrokerSimulator;
  const brokerErrors: string[] = [];

  beforeAll(async () => {
    useDummyCredentialsIfUnset(); // the Lambda clients take the default chain, as `npm start`'s users do
    const assemblyDir = path.join(repoRoot, '.localcloud', 'cdk.out.burst');
    await synthesize({ outdir: assemblyDir, context: { stackName: STACK, sessionTimeoutMs: SESSION_TIMEOUT_MS } });
    cloud = await startLocalCloud({ port: 0, assemblyDir, ttlPeriodMs: 1000 }); // npm start's reaper period
    outputs = asLeadershipOutputs(STACK, cloud.stacks.find((stack) => stack.stackName === STACK)?.outputs);
    brokers = new TimedHeartbeatClient(outputs, { endpoint: cloud.endpoint, region: cloud.region });
    admin = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: cloud.region });
    simulator = new BrokerSimulator(brokers, {
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      credentials: registerCredentials(admin),
      onError: (id, error) => brokerErrors.push(`${id}: ${error.name}: ${error.message}`),
    });
    await simulator.start(['x', 'y']);
    await admin.createTopic({ topic: TOPIC, partitions: 1, replicationFactor: 2 });
    // A running cluster: both brokers in their steady heartbeat rhythm before producers arrive.
    await pollUntil(() => brokers.samples.length >= 6, { timeoutMs: 10_000, intervalMs: 50, description: 'three heartbeats per broker' });
  });

  afterAll(async () => {
    await simulator?.stop();
    brokers?.close();
    admin?.close();
    await cloud?.stop();
  });

  const acked: Array<{ value: string; offset: number }> = [];
  const refused: Array<{ value: string; errorType: string }> = [];
  let burst = { startedAt: 0, endedAt: 0 };

  it('acknowledges each produce at an offset of its own, or refuses it with a retriable error', async () => {
    // Cold, as a real burst is: the first produce in each new sandbox pays its init.
    burst = { startedAt: Date.now(), endedAt: 0 };
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, producer) => {
        const client = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: cloud.region });
        try {
          await Promise.all(
            Array.from({ length: PRODUCES_EACH }, async (_, n) => {
              const value = `producer-${producer}-record-${n}`;
              try {
                const ack: ProduceResponse = await client.produce({ topic: TOPIC, partition: 1, records: [{ key: `p${producer}`, value }] });
                expect(ack.lastOffset).toBe(ack.baseOffset);
                acked.push({ value, offset: ack.baseOffset });
              } catch (error) {
                if (!(error instanceof RemoteFunctionError)) throw error;
                refused.push({ value, errorType: error.errorType });
              }
            }),
          );
        } finally {
          client.close();
        }
      }),
    );
    burst.endedAt = Date.now();

    console.log(
      `[produce burst] ${acked.length} acknowledged, ${refused.length} refused ` +
        `(${[...new Set(refused.map((r) => r.errorType))].join(', ') || 'none'}) in ${burst.endedAt - burst.startedAt} ms`,
    );
    expect(acked.length + refused.length).toBe(PRODUCERS * PRODUCES_EACH);
    expect(refused.filter((r) => !RETRIABLE.has(r.errorType))).toEqual([]);
    expect(new Set(acked.map((a) => a.offset)).size).toBe(acked.length);
    expect(acked.length).toBeGreaterThan(0);
  });

  it('still takes writes, and consume returns exactly the acknowledged records, once each, at contiguous offsets', async () => {
    const after = await admin.produce({ topic: TOPIC, partition: 1, records: [{ value: 'after-the-burst' }] });
    acked.push({ value: 'after-the-burst', offset: after.baseOffset });

    const consumed: Array<{ offset: number; value: string }> = [];
    for (let offset = 0; ; ) {
      const page = await admin.consume({ topic: TOPIC, partition: 1, offset, maxRecords: 50 });
      consumed.push(...page.records.map((r) => ({ offset: r.offset, value: r.value })));
      if (page.records.length === 0 || page.nextOffset >= page.highWatermark) break;
      offset = page.nextOffset;
    }
    expect(consumed.map((r) => r.offset)).toEqual(consumed.map((_, i) => i));
    const byOffset = (a: { offset: number }, b: { offset: number }) => a.offset - b.offset;
    expect(consumed.sort(byOffset)).toEqual([...acked].sort(byOffset).map(({ offset, value }) => ({ offset, value })));
  });

  it('brings the high watermark to the leader log end, with no failover', async () => {
    const metadata = new DynamoDBClient(testClientConfig(cloud.endpoint));
    try {
      const logEnd = async (broker: string) => {
        const { Item } = await metadata.send(
          new GetItemCommand({
            TableName: outputs.MetadataTableName,
            Key: { pk: { S: `topic#${TOPIC}` }, sk: { S: `replica#000001#${broker}` } },
            ConsistentRead: true,
          }),
        );
        return Number(Item?.logEndOffset?.N ?? Number.NaN);
      };
      const view = await pollUntil(
        async () => {
          const partition = (await admin.describe(TOPIC)).topics[0]?.partitions[0];
          const leaderEnd = partition?.Leader ? await logEnd(partition.Leader) : Number.NaN;
          return partition && partition.HighWatermark === leaderEnd ? { ...partition, leaderEnd } : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, description: 'the high watermark to reach the leader log end' },
      );
      expect(view.leaderEnd).toBe(acked.length);
      expect(view).toMatchObject({ Leader: 'x', LeaderEpoch: 0, Isr: ['x', 'y'], State: 'ONLINE' });
      expect(brokerErrors).toEqual([]);
    } finally {
      metadata.destroy();
    }
  });

  it('answers every heartbeat during the burst before a lease could lapse', () => {
    const during = brokers.samples.filter((s) => s.at >= burst.startedAt && s.at <= burst.endedAt + HEARTBEAT_INTERVAL_MS);
    const stats = summarize(during.map((s) => Math.round(s.ms)));
    console.log(
      `[produce burst] heartbeat latency during the burst (ms): ${JSON.stringify(stats)}; bound ${SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS} ms; ` +
        `[ms into the burst, latency]: ${JSON.stringify(during.map((s) => [s.at - burst.startedAt, Math.round(s.ms)]))}`,
    );
    expect(during.length).toBeGreaterThan(0);
    expect(stats.max).toBeLessThan(SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS);
  });
});
