import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { repoRoot } from '../../../tools/synth.js';
import { findCoordinator, joinAsLeader } from './group-member.js';
import { leadershipClient, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run cli -- consumer-groups ...` as an operator runs it (tsx scripts/cli.ts) against the
 * deployed stack: a group made by an admin's commit (generation -1), its lag as records are
 * produced, a reset planned and then executed, and a group with a member, whose owner
 * describe shows and whose offsets the coordinator will not let an admin reset.
 */
describe('CLI consumer-groups on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  // The offsets topic is created by the first FindCoordinator with replication factor 3.
  const brokers = ['cg-1', 'cg-2', 'cg-3'];
  const simulator = new BrokerSimulator(client, { heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)), credentials: registerCredentials(client) });
  const topic = uniqueTopic('cg');
  const group = uniqueTopic('cg-group');
  const outputsFile = join(mkdtempSync(join(tmpdir(), 'cli-outputs-')), 'outputs.json');
  const connection = ['--endpoint', target.endpoint, '--outputs', outputsFile, '--stack', 'Stack', '--region', target.region];

  function cli(args: string[]): Promise<CliRun> {
    return new Promise((resolve) => {
      execFile(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/cli.ts', ...args, ...connection], { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: '' } }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }
  const rows = (run: CliRun) => run.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/));
  const committed = async (groupId: string) =>
    (await client.invoke('groups', { api: 'OffsetFetch', groupId })).partitions.map(({ partition, offset }) => [partition, offset]).sort((a, b) => a[0] - b[0]);

  beforeAll(async () => {
    writeFileSync(outputsFile, JSON.stringify({ Stack: target.outputs }));
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    await client.createTopic({ topic, partitions: 2, replicationFactor: 2 });
    await findCoordinator(client, group);
  });

  afterAll(async () => {
    await simulator.stop();
    client.close();
  });

  it('describes a group made by an admin commit with its lag, plans a reset without writing, and executes it', async () => {
    await client.produce({ topic, partition: 1, records: ['a', 'b', 'c', 'd', 'e'].map((value) => ({ key: null, value })) });
    await client.produce({ topic, partition: 2, records: ['a', 'b', 'c'].map((value) => ({ key: null, value })) });
    const { coordinatorEpoch } = await findCoordinator(client, group);
    const commit = await client.invoke('groups', {
      api: 'OffsetCommit',
      groupId: group,
      coordinatorEpoch,
      generationId: -1,
      offsets: [
        { topic, partition: 1, offset: 2 },
        { topic, partition: 2, offset: 3 },
      ],
    });
    expect(commit.partitions.every((partition) => !('errorType' in partition))).toBe(true);

    const listed = await cli(['consumer-groups', 'list', '--state']);
    expect(listed, listed.stderr).toMatchObject({ code: 0 });
    expect(rows(listed)).toContainEqual([group, 'Empty']);

    const described = await cli(['consumer-groups', 'describe', '--group', group]);
    expect(described, described.stderr).toMatchObject({ code: 0, stderr: `cli: Consumer group "${group}" has no active members.\n` });
    expect(rows(described)).toEqual([
      [group, topic, '1', '2', '5', '3', '-', '-'],
      [group, topic, '2', '3', '3', '0', '-', '-'],
    ]);
    const state = await cli(['consumer-groups', 'describe', '--group', group, '--state']);
    expect(rows(state)[0]).toEqual([group, expect.stringMatching(/^cg-\d$/), String(coordinatorEpoch), '-', '-', 'Empty', expect.any(String), '-', '0']);

    // More records: the lag grows with the log end, the commit stays.
    await client.produce({ topic, partition: 2, records: [{ key: null, value: 'f' }] });
    expect(rows(await cli(['consumer-groups', 'describe', '--group', group]))[1]).toEqual([group, topic, '2', '3', '4', '1', '-', '-']);

    const dryRun = await cli(['consumer-groups', 'reset-offsets', '--group', group, '--topic', topic, '--to-earliest']);
    expect(dryRun).toMatchObject({ code: 0, stderr: 'cli: dry run: nothing was committed; add --execute to commit these offsets.\n' });
    expect(rows(dryRun)).toEqual([
      [group, topic, '1', '2', '0'],
      [group, topic, '2', '3', '0'],
    ]);
    expect(await committed(group)).toEqual([[1, 2], [2, 3]]);

    const executed = await cli(['consumer-groups', 'reset-offsets', '--group', group, '--topic', `${topic}:1`, '--to-offset', '4', '--execute']);
    expect(executed, executed.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(rows(executed)).toEqual([[group, topic, '1', '2', '4']]);
    expect(await committed(group)).toEqual([[1, 4], [2, 3]]);
    const shifted = await cli(['consumer-groups', 'reset-offsets', '--group', group, '--all-topics', '--shift-by=-1', '--execute', '--json']);
    expect(JSON.parse(shifted.stdout)).toMatchObject({ executed: true, partitions: [{ partition: 1, newOffset: 3 }, { partition: 2, newOffset: 2 }] });
    expect(rows(await cli(['consumer-groups', 'describe', '--group', group]))).toEqual([
      [group, topic, '1', '3', '5', '2', '-', '-'],
      [group, topic, '2', '2', '4', '2', '-', '-'],
    ]);

    const refused = await cli(['consumer-groups', 'reset-offsets', '--group', group, '--topic', `${topic}:3`, '--to-latest', '--execute']);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining(`--topic: topic "${topic}" has partitions 1 to 2, not 3`) });
    expect(await committed(group)).toEqual([[1, 3], [2, 2]]);
  });

  it('shows the member that owns each partition, and refuses to reset a group with members', async () => {
    const active = `${group}-active`;
    const member = await joinAsLeader(client, { groupId: active, clientId: 'billing', topics: [topic], assignment: [{ topic, partitions: [1, 2] }] });
    try {
      await client.invoke('groups', { api: 'OffsetCommit', groupId: active, memberId: member.memberId, generationId: member.generationId, offsets: [{ topic, partition: 1, offset: 1 }] });
      const described = await cli(['consumer-groups', 'describe', '--group', active]);
      expect(described, described.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(rows(described)).toEqual([
        [active, topic, '1', '1', '5', '4', member.memberId, 'billing'],
        [active, topic, '2', '-', '4', '-', member.memberId, 'billing'],
      ]);
      expect(rows(await cli(['consumer-groups', 'describe', '--group', active, '--members']))).toEqual([[active, member.memberId, '-', 'billing', '2', `${topic}(1,2)`]]);
      expect(rows(await cli(['consumer-groups', 'describe', '--group', active, '--state']))[0]).toEqual([
        active,
        expect.stringMatching(/^cg-\d$/),
        expect.any(String),
        'consumer',
        'range',
        'Stable',
        String(member.generationId),
        member.memberId,
        '1',
      ]);

      const refused = await cli(['consumer-groups', 'reset-offsets', '--group', active, '--topic', topic, '--to-earliest', '--execute']);
      expect(refused).toMatchObject({ code: 1, stdout: '', stderr: `cli: Assignments can only be reset if the group "${active}" is inactive, but the current state is Stable\n` });
      expect(await committed(active)).toEqual([[1, 1]]);
    } finally {
      await member.leave();
    }
    // Once the member left, the group is Empty and an admin may reset it.
    const reset = await cli(['consumer-groups', 'reset-offsets', '--group', active, '--topic', topic, '--to-latest', '--execute']);
    expect(reset, reset.stderr).toMatchObject({ code: 0 });
    expect(await committed(active)).toEqual([[1, 5], [2, 4]]);

    const ghost = await cli(['consumer-groups', 'describe', '--group', uniqueTopic('nobody')]);
    expect(ghost).toMatchObject({ code: 1, stderr: expect.stringMatching(/^cli: Consumer group "nobody-.*" does not exist\.\n$/) });
  });
});
