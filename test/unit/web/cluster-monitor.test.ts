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
    messages: [] as unknown[],
  };
  const client = new LeadershipClient(fakeOutputs, {
    transport: (functionName) => {
      if (state.fault instanceof Error) return Promise.reject(state.fault);
      if (state.fault) return Promise.resolve(state.fault);
      if (functionName === fakeOutputs.DescribeFunctionName) return Promise.resolve({ payload: JSON.stringify(state.cluster) });
      if (functionName === fakeOutputs.ConsumeFunctionName) {
        return Promise.resolve({ payload: JSON.stringify({ topic: 'orders', partition: 1, leader: state.leader, leaderEpoch: 1, highWatermark: 0, records: [], nextOffset: 0 }) });
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
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000 });
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
});
