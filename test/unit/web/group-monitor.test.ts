import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { BrokerSimulator } from '../../../client/broker-simulator.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { encodeAssignment } from '../../../protocol/consumer-protocol.js';
import { ClusterMonitor } from '../../../web/cluster-monitor.js';
import { FakeGroups } from '../client/fake-groups.js';
import { FakeLambda, fakeOutputs } from '../client/fake-lambda.js';

/** The console's monitor over a fake cloud with groups; refreshed by hand, reading the groups on every refresh. */
function monitored() {
  const lambda = new FakeLambda('orders', 2);
  lambda.append(1, 'a', 'b', 'c', 'd');
  const groups = new FakeGroups(lambda);
  let groupsDown = false;
  const client = new LeadershipClient(fakeOutputs, {
    transport: (name, payload, options) =>
      groupsDown && name === fakeOutputs.GroupsFunctionName
        ? Promise.resolve({ functionError: 'Unhandled', payload: JSON.stringify({ errorType: 'ValidationError', errorMessage: 'groups are down' }) })
        : groups.transport(name, payload, options),
  });
  const sqs = { send: () => Promise.resolve({ Messages: [] }) } as unknown as SQSClient;
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: 1000, credentials: (brokerId) => `credential-of-${brokerId}` });
  const monitor = new ClusterMonitor({ client, sqs, queueUrl: 'http://queue', simulators: [simulator], endpoint: 'http://cloud', sessionTimeoutMs: 6000, groupsPollIntervalMs: 0 });
  return { groups, monitor, setGroupsDown: (down: boolean) => (groupsDown = down) };
}

describe('the console monitor: consumer groups', () => {
  it('shows each group with owners and lag, and a timeline entry per generation it sees, completed by later polls of that generation', async () => {
    const { groups, monitor } = monitored();
    groups.set({ groupId: 'billing', state: 'Empty', protocolType: '', protocolName: '', generationId: 0 }, [{ topic: 'orders', partition: 1, offset: 1 }]);
    await monitor.refresh();
    let snapshot = monitor.snapshot();
    expect(snapshot.groups).toHaveLength(1);
    expect(snapshot.groups[0].partitions).toEqual([{ topic: 'orders', partition: 1, currentOffset: 1, logEndOffset: 4, lag: 3, memberId: null, clientId: null }]);
    expect(snapshot.groupTimeline.map((entry) => [entry.groupId, entry.previousGenerationId, entry.generationId, entry.state])).toEqual([['billing', undefined, 0, 'Empty']]);

    // A member joined: seen while its assignment is not out yet, then again once it is.
    const joined = groups.groups.get('billing')!;
    joined.described = { ...joined.described, state: 'CompletingRebalance', protocolType: 'consumer', protocolName: 'range', generationId: 1, leader: 'm1', members: [{ memberId: 'm1', clientId: 'c1', groupInstanceId: null, assignment: '' }] };
    await monitor.refresh();
    joined.described = { ...joined.described, state: 'Stable', members: [{ memberId: 'm1', clientId: 'c1', groupInstanceId: null, assignment: encodeAssignment({ partitions: [{ topic: 'orders', partitions: [1, 2] }] }) }] };
    await monitor.refresh();
    snapshot = monitor.snapshot();
    expect(snapshot.groupTimeline.map((entry) => [entry.previousGenerationId, entry.generationId, entry.state])).toEqual([
      [0, 1, 'Stable'],
      [undefined, 0, 'Empty'],
    ]);
    expect(snapshot.groupTimeline[0].members).toEqual([{ memberId: 'm1', clientId: 'c1', partitions: 'orders(1,2)' }]);
    expect(snapshot.groups[0].partitions.map((row) => [row.partition, row.memberId, row.lag])).toEqual([
      [1, 'm1', 3],
      [2, 'm1', null],
    ]);

    // A rebalance starting within the generation changes no entry: the next generation gets its own.
    joined.described = { ...joined.described, state: 'PreparingRebalance' };
    await monitor.refresh();
    expect(monitor.snapshot().groupTimeline.map((entry) => [entry.generationId, entry.state])).toEqual([
      [1, 'Stable'],
      [0, 'Empty'],
    ]);

    groups.groups.delete('billing');
    await monitor.refresh();
    expect(monitor.snapshot().groups).toEqual([]);
    expect(monitor.snapshot().groupTimeline[0]).toMatchObject({ groupId: 'billing', previousGenerationId: 1, state: 'Dead', members: [] });
  });

  it('keeps the last picture and says why when the groups function fails, without marking the cloud down', async () => {
    const { groups, monitor, setGroupsDown } = monitored();
    groups.set({ groupId: 'billing', state: 'Empty' });
    await monitor.refresh();
    setGroupsDown(true);
    await monitor.refresh();
    const snapshot = monitor.snapshot();
    expect(snapshot.groups.map((group) => group.groupId)).toEqual(['billing']);
    expect(snapshot.groupsError).toMatch(/^the groups function refused: ValidationError: groups are down/);
    expect(snapshot.cloud.ok).toBe(true);
    setGroupsDown(false);
    await monitor.refresh();
    expect(monitor.snapshot().groupsError).toBeUndefined();
  });
});
