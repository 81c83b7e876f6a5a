import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerSimulator } from '../../../client/broker-simulator.js';
import { type DescribeResponse, type InvokeOutcome, LeadershipClient } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { ClusterMonitor } from '../../../web/cluster-monitor.js';
import { fakeOutputs } from '../client/fake-lambda.js';

const sessionTimeoutMs = 6000;

/** A fake Lambda API: describe answers `cluster` (or `fault`), consume says who leads. */
function fakeCloud() {
  const state = {
    cluster: { topics: [], brokers: [] } as DescribeResponse,
    fault: undefined as InvokeOutcome | Error | undefined,
    leader: 'A',
    /** Per partition, who leads it now (else `leader`). */
    leaders: new Map<number, string>(),
    /** The partitions asked in each fetch, in order. */
    fetches: [] as number[][],
    messages: [] as unknown[],
  };
  const answer = (partition: number) => ({
    topic: 'orders',
    partition,
    leader: state.leaders.get(partition) ?? state.leader,
    leaderEpoch: 1,
    highWatermark: 0,
    records: [],
    nextOffset: 0,
  });
  const client = new LeadershipClient(fakeOutputs, {
    transport: (functionName, payload) => {
      if (state.fault instanceof Error) return Promise.reject(state.fault);
      if (state.fault) return Promise.resolve(state.fault);
      if (functionName === fakeOutputs.DescribeFunctionName) return Promise.resolve({ payload: JSON.stringify(state.cluster) });
      if (functionName === fakeOutputs.ConsumeFunctionName) {
        const request = JSON.parse(payload) as { partition?: number; partitions?: Array<{ partition: number }> };
        if (!request.partitions) return Promise.resolve({ payload: JSON.stringify(answer(request.partition ?? 1)) });
        state.fetches.push(request.partitions.map((p) => p.partition));
        return Promise.resolve({ payload: JSON.stringify({ partitions: request.partitions.map((p) => answer(p.partition)) }) });
      }
      return Promise.reject(new Error(`unexpected ${functionName}`));
    },
  });
  const sqs = {
    send: (command: unknown) => {
      if (command instanceof ReceiveMessageCommand) {
        const batch = state.messages.splice(0, 10).map((body, index) => ({ Body: JSON.stringify(body), ReceiptHandle: `r${index}`, Attributes: { MessageGroupId: 'orders-1' } }));
        return Promise.resolve({ Messages: batch });
      }
      return Promise.resolve({});
    },
  } as unknown as SQSClient;
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: (brokerId) => `credential-of-${brokerId}` });
  const monitor = new ClusterMonitor({ client, sqs, queueUrl: 'http://queue', simulators: [simulator], endpoint: 'http://cloud', sessionTimeoutMs, pollIntervalMs: 20 });
  return { state, monitor };
}

const event = (overrides: Record<string, unknown>) => ({
  topic: 'orders',
  partition: 1,
  previousLeader: 'A',
  newLeader: 'B',
  leaderEpoch: 1,
  isr: ['B'],
  state: 'ONLINE',
  reason: 'LEADER_FAILED',
  unclean: false,
  at: 10_000,
  version: 3,
  ...overrides,
});

let stopMonitor: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopMonitor?.();
  stopMonitor = undefined;
});

describe('ClusterMonitor', () => {
  it('says which function failed and what it answered, and recovers on the next good answer', async () => {
    const { state, monitor } = fakeCloud();
    state.fault = { payload: JSON.stringify({ errorType: 'InternalError', errorMessage: 'table missing' }), functionError: 'Unhandled' };
    await monitor.refresh();
    expect(monitor.snapshot().cloud).toMatchObject({ ok: false, error: 'the describe function refused: InternalError: table missing' });

    state.fault = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });
    await monitor.refresh();
    expect(monitor.snapshot().cloud.error).toMatch(/^The cloud at http:\/\/cloud is unreachable \(ECONNREFUSED\)/);

    state.fault = undefined;
    await monitor.refresh();
    expect(monitor.snapshot().cloud.ok).toBe(true);
  });

  it('puts each leadership event on the timeline once, newest first, and times a failover from the last heartbeat seen to the first read', async () => {
    const { state, monitor } = fakeCloud();
    state.cluster = { topics: [], brokers: [{ brokerId: 'A', incarnation: 1, lastHeartbeatAt: 4_000, deadlineMs: 10_000, alive: true }] };
    await monitor.refresh();
    state.cluster = { topics: [], brokers: [] };
    state.leader = 'B';
    const promotion = event({});
    // FIFO delivery is at least once: the same change (topic, partition, version) twice.
    state.messages.push(event({ reason: 'CREATED', previousLeader: null, newLeader: 'A', leaderEpoch: 0, at: 1_000, version: 1 }), promotion, promotion);
    monitor.start();
    stopMonitor = () => monitor.stop();
    const entry = await pollUntil(
      () => {
        const found = monitor.snapshot().timeline.find((candidate) => candidate.event?.reason === 'LEADER_FAILED');
        return found?.failover?.firstReadAt !== undefined ? found : undefined;
      },
      { timeoutMs: 5000, description: 'the failover entry with its first read' },
    );
    const timeline = monitor.snapshot().timeline;
    expect(timeline.map((candidate) => candidate.event?.reason)).toEqual(['LEADER_FAILED', 'CREATED']);
    expect(entry.failover).toMatchObject({ from: 'last heartbeat', fromAt: 4_000, promotedAt: 10_000 });
    expect(timeline.find((candidate) => candidate.event?.reason === 'CREATED')?.failover).toBeUndefined();
  });

  it("reads a departing broker's partitions with one fetch a round until each is served elsewhere, and times the failover by it", async () => {
    const { state, monitor } = fakeCloud();
    const view = (partition: number, leader: string) => ({
      Topic: 'orders',
      Partition: partition,
      Leader: leader,
      Replicas: [leader, 'B'],
      Isr: [leader, 'B'],
      LeaderEpoch: 0,
      HighWatermark: 0,
      State: 'ONLINE' as const,
    });
    state.cluster = {
      topics: [{ topic: 'orders', partitionCount: 3, replicationFactor: 2, minInsyncReplicas: 1, uncleanLeaderElection: false, compressionType: 'producer', storage: 'replicated', partitions: [view(1, 'A'), view(2, 'C'), view(3, 'A')] }],
      brokers: [],
    };
    await monitor.refresh();
    monitor.start();
    stopMonitor = () => monitor.stop();

    monitor.noteShutdownRequested('A');
    await pollUntil(() => state.fetches.length >= 2 || undefined, { timeoutMs: 5000, description: 'two fetch rounds while A still leads' });
    state.leaders.set(1, 'B');
    await pollUntil(() => state.fetches.at(-1)?.join() === '3' || undefined, { timeoutMs: 5000, description: 'a round without the served partition' });
    state.leaders.set(3, 'B');
    state.messages.push(event({ partition: 3, reason: 'CONTROLLED_SHUTDOWN' }));
    const entry = await pollUntil(
      () => {
        const found = monitor.snapshot().timeline.find((candidate) => candidate.event?.partition === 3);
        return found?.failover?.firstReadAt !== undefined ? found : undefined;
      },
      { timeoutMs: 5000, description: 'the shutdown entry with its first read' },
    );

    // Every round asked all partitions A led and nothing else, in one call; a served one is not asked again.
    expect(state.fetches[0]).toEqual([1, 3]);
    expect(new Set(state.fetches.map((asked) => asked.join()))).toEqual(new Set(['1,3', '3']));
    expect(entry.failover).toMatchObject({ from: 'shutdown request' });
    expect(entry.failover!.firstReadAt).toBeGreaterThanOrEqual(entry.failover!.fromAt!);
  });
});
