import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../../../client/cli/args.js';
import { table } from '../../../client/cli/consumer-groups-format.js';
import { runCli } from '../../../client/cli/run.js';
import { buildGroupView, lagOf, type ConsumerGroupView } from '../../../client/consumer-group-view.js';
import { planOffsetReset } from '../../../client/consumer-groups.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { encodeAssignment } from '../../../protocol/consumer-protocol.js';
import type { DescribedGroup } from '../../../protocol/messages.js';
import { FakeGroups } from './fake-groups.js';
import { FakeLambda, fakeOutputs } from './fake-lambda.js';

const member = (memberId: string, clientId: string, partitions: number[], topic = 'orders') => ({
  memberId,
  clientId,
  groupInstanceId: null,
  assignment: encodeAssignment({ partitions: [{ topic, partitions }] }),
});

/** orders: 3 partitions holding 5, 3 and 0 records. */
function cluster(): FakeGroups {
  const lambda = new FakeLambda('orders', 3);
  lambda.append(1, 'a', 'b', 'c', 'd', 'e');
  lambda.append(2, 'a', 'b', 'c');
  const groups = new FakeGroups(lambda);
  groups.set({ groupId: 'billing', generationId: 4, members: [member('c1-1-1', 'c1', [1, 2]), member('c2-1-2', 'c2', [3])] }, [
    { topic: 'orders', partition: 1, offset: 2 },
    { topic: 'orders', partition: 2, offset: 3 },
  ]);
  groups.set({ groupId: 'audit', state: 'Empty', protocolName: '', generationId: 2 }, [
    { topic: 'orders', partition: 1, offset: 4 },
    { topic: 'gone', partition: 1, offset: 9 },
  ]);
  return groups;
}

async function cli(argv: string[], groups = cluster()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    stdin: Readable.from(['']),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: {},
    connect: () => new LeadershipClient(fakeOutputs, { transport: groups.transport }),
  });
  return { code, out, err, groups, rows: out.slice(1).map((line) => line.split(/\s+/)) };
}

describe('consumer-groups: parsing', () => {
  it('parses list, describe and reset-offsets as kafka-consumer-groups takes them', () => {
    expect(parseCli(['consumer-groups', 'list']).command).toEqual({ verb: 'consumer-groups list', showState: false, json: false });
    expect(parseCli(['consumer-groups', 'list', '--state']).command).toEqual({ verb: 'consumer-groups list', showState: true, json: false });
    expect(parseCli(['consumer-groups', 'list', '--state', 'stable,Empty', '--json']).command).toEqual({
      verb: 'consumer-groups list',
      states: ['Stable', 'Empty'],
      showState: true,
      json: true,
    });
    expect(parseCli(['consumer-groups', 'describe', '--group', 'g']).command).toEqual({ verb: 'consumer-groups describe', group: 'g', view: 'offsets', json: false });
    expect(parseCli(['consumer-groups', 'describe', '--group', 'g', '--members']).command).toMatchObject({ view: 'members' });
    expect(parseCli(['consumer-groups', 'describe', '--state', '--group', 'g']).command).toMatchObject({ view: 'state', group: 'g' });
    expect(parseCli(['consumer-groups', 'describe', '--group', 'g', '--state']).command).toMatchObject({ view: 'state' });
    expect(parseCli(['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 'orders', '--to-earliest']).command).toEqual({
      verb: 'consumer-groups reset-offsets',
      group: 'g',
      scope: { topic: 'orders' },
      spec: { to: 'earliest' },
      execute: false,
      json: false,
    });
    expect(parseCli(['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 'orders:3,1', '--to-offset', '7', '--execute']).command).toMatchObject({
      scope: { topic: 'orders', partitions: [1, 3] },
      spec: { to: 'offset', offset: 7 },
      execute: true,
    });
    expect(parseCli(['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--shift-by=-2', '--dry-run']).command).toMatchObject({
      scope: { allTopics: true },
      spec: { to: 'shift', by: -2 },
      execute: false,
    });
    expect(parseCli(['consumer-groups', 'reset-offsets', '--group', 'g', '--all-topics', '--to-latest']).command).toMatchObject({ spec: { to: 'latest' } });
  });

  it.each([
    [['consumer-groups'], /"consumer-groups" needs a sub-command: consumer-groups list, consumer-groups describe, consumer-groups reset-offsets/],
    [['consumer-groups', 'delete', '--group', 'g'], /unknown verb "consumer-groups delete"/],
    [['consumer-groups', 'list', '--state', 'Running'], /--state must be one or more of Empty, PreparingRebalance, CompletingRebalance, Stable \(comma-separated\), got "Running"/],
    [['consumer-groups', 'list', '--group', 'g'], /consumer-groups list takes no --group/],
    [['consumer-groups', 'describe'], /--group is required/],
    [['consumer-groups', 'describe', '--group', ''], /--group is required/],
    [['consumer-groups', 'describe', '--group', 'g', '--state', 'Stable'], /consumer-groups describe takes --state without a value, got "Stable"/],
    [['consumer-groups', 'describe', '--group', 'g', '--members', '--state'], /--members and --state are exclusive/],
    [['consumer-groups', 'describe', '--group', 'g', '--topic', 't'], /consumer-groups describe takes no --topic/],
    [['consumer-groups', 'reset-offsets', '--topic', 't', '--to-earliest'], /--group is required/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--to-earliest'], /needs one of --topic T\[:P,P...\] or --all-topics/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--all-topics', '--to-earliest'], /needs one of --topic/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't'], /needs exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N$/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--to-earliest', '--to-offset', '3'], /got --to-earliest and --to-offset/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--to-offset=-1'], /--to-offset must be an integer >= 0, got "-1"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--shift-by', 'x'], /--shift-by must be an integer \(negative moves back: --shift-by=-5\), got "x"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--shift-by', '-5'], /use '--shift-by=-XYZ'/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't:0', '--to-latest'], /--topic t: partitions must be integers >= 1, comma-separated, got "0"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't:1,x', '--to-latest'], /got "x"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't:1,1', '--to-latest'], /a partition is listed twice in "t:1,1"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', ':1', '--to-latest'], /--topic needs a topic name, got ":1"/],
    [['consumer-groups', 'reset-offsets', '--group', 'g', '--topic', 't', '--to-latest', '--dry-run', '--execute'], /--dry-run and --execute are exclusive/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('consumer-groups: the view and the plan', () => {
  const described: DescribedGroup = {
    groupId: 'g',
    state: 'Stable',
    protocolType: 'consumer',
    protocolName: 'range',
    generationId: 2,
    leader: 'm1',
    members: [member('m1', 'c1', [2]), { memberId: 'm2', clientId: 'c2', groupInstanceId: 'i2', assignment: 'not json' }],
    coordinator: 'A',
    coordinatorEpoch: 1,
  };
  const logEnds = new Map([['orders', new Map([[1, 10], [2, 7]])]]);

  it('joins owners, commits and log ends: a commit no member owns has no owner, an owned partition with no commit no lag', () => {
    const view = buildGroupView(
      described,
      [
        { topic: 'orders', partition: 1, offset: 4, committedLeaderEpoch: -1, metadata: '' },
        { topic: 'orders', partition: 2, offset: -1, committedLeaderEpoch: -1, metadata: '' },
        { topic: 'gone', partition: 1, offset: 3, committedLeaderEpoch: -1, metadata: '' },
      ],
      logEnds,
    );
    expect(view.partitions).toEqual([
      { topic: 'gone', partition: 1, currentOffset: 3, logEndOffset: null, lag: null, memberId: null, clientId: null },
      { topic: 'orders', partition: 1, currentOffset: 4, logEndOffset: 10, lag: 6, memberId: null, clientId: null },
      { topic: 'orders', partition: 2, currentOffset: null, logEndOffset: 7, lag: null, memberId: 'm1', clientId: 'c1' },
    ]);
    expect(view.members[1]).toMatchObject({ memberId: 'm2', partitions: [], assignmentError: expect.stringMatching(/not JSON/) });
  });

  it('never reports a negative lag', () => {
    expect(lagOf(12, 10)).toBe(0);
    expect(lagOf(null, 10)).toBeNull();
    expect(lagOf(3, null)).toBeNull();
  });

  it('plans each spec, clamping to the log as Kafka does, and refuses bad partitions and a shift of nothing', () => {
    const view = { groupId: 'g', partitions: [{ topic: 'orders', partition: 1, currentOffset: 4 }] } as ConsumerGroupView;
    expect(planOffsetReset(view, logEnds, { topic: 'orders' }, { to: 'earliest' })).toEqual([
      { topic: 'orders', partition: 1, currentOffset: 4, newOffset: 0 },
      { topic: 'orders', partition: 2, currentOffset: null, newOffset: 0 },
    ]);
    expect(planOffsetReset(view, logEnds, { topic: 'orders', partitions: [2] }, { to: 'latest' })).toEqual([{ topic: 'orders', partition: 2, currentOffset: null, newOffset: 7 }]);
    expect(planOffsetReset(view, logEnds, { topic: 'orders', partitions: [1] }, { to: 'shift', by: -2 })[0].newOffset).toBe(2);
    expect(planOffsetReset(view, logEnds, { topic: 'orders', partitions: [1] }, { to: 'shift', by: -9 })[0]).toMatchObject({ newOffset: 0, clamped: '-5 is before the earliest offset 0 of orders-1: set to 0' });
    expect(planOffsetReset(view, logEnds, { topic: 'orders', partitions: [1] }, { to: 'offset', offset: 99 })[0]).toMatchObject({ newOffset: 10, clamped: '99 is past the log end 10 of orders-1: set to 10' });
    expect(planOffsetReset(view, logEnds, { allTopics: true }, { to: 'offset', offset: 5 }).map((row) => row.newOffset)).toEqual([5, 5]);
    expect(() => planOffsetReset(view, logEnds, { topic: 'orders', partitions: [2] }, { to: 'shift', by: 1 })).toThrow('--shift-by: group "g" has no committed offset for orders-2 to shift');
    expect(() => planOffsetReset(view, logEnds, { topic: 'orders', partitions: [3] }, { to: 'latest' })).toThrow('--topic: topic "orders" has partitions 1 to 2, not 3');
    expect(() => planOffsetReset(view, logEnds, { topic: 'ghost' }, { to: 'latest' })).toThrow('--topic: topic "ghost" does not exist');
    expect(() => planOffsetReset({ ...view, partitions: [] }, logEnds, { allTopics: true }, { to: 'latest' })).toThrow(/has committed no offsets/);
  });

  it('pads columns and prints "-" for what is absent', () => {
    expect(table(['A', 'LONGER'], [['x', null], ['wide', 3]])).toEqual(['A     LONGER', 'x     -', 'wide  3']);
  });
});

describe('consumer-groups: commands (fake groups function)', () => {
  it('lists groups, with their states and filtered by state', async () => {
    expect((await cli(['consumer-groups', 'list'])).out).toEqual(['billing', 'audit']);
    expect((await cli(['consumer-groups', 'list', '--state'])).rows).toEqual([['billing', 'Stable'], ['audit', 'Empty']]);
    const empty = await cli(['consumer-groups', 'list', '--state', 'Empty']);
    expect(empty.out).toEqual(['GROUP  STATE', 'audit  Empty']);
    expect(empty.groups.lambda.callsTo(fakeOutputs.GroupsFunctionName).map((call) => call.payload)).toEqual([{ api: 'ListGroups', states: ['Empty'] }]);
    expect(JSON.parse((await cli(['consumer-groups', 'list', '--json'])).out.join('\n'))).toEqual({
      groups: [
        { groupId: 'billing', protocolType: 'consumer', state: 'Stable' },
        { groupId: 'audit', protocolType: 'consumer', state: 'Empty' },
      ],
    });
  });

  it('describes each partition with its committed offset, log end, lag and owner', async () => {
    const described = await cli(['consumer-groups', 'describe', '--group', 'billing']);
    expect(described).toMatchObject({ code: 0, err: [] });
    expect(described.out[0].split(/\s+/)).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'CLIENT-ID']);
    expect(described.rows).toEqual([
      ['billing', 'orders', '1', '2', '5', '3', 'c1-1-1', 'c1'],
      ['billing', 'orders', '2', '3', '3', '0', 'c1-1-1', 'c1'],
      ['billing', 'orders', '3', '-', '0', '-', 'c2-1-2', 'c2'],
    ]);
    const empty = await cli(['consumer-groups', 'describe', '--group', 'audit']);
    expect(empty.err).toEqual(['cli: Consumer group "audit" has no active members.']);
    expect(empty.rows).toEqual([
      ['audit', 'gone', '1', '9', '-', '-', '-', '-'],
      ['audit', 'orders', '1', '4', '5', '1', '-', '-'],
    ]);
    const json = JSON.parse((await cli(['consumer-groups', 'describe', '--group', 'billing', '--json'])).out.join('\n')) as ConsumerGroupView;
    expect(json).toMatchObject({ groupId: 'billing', state: 'Stable', generationId: 4, partitions: [{ partition: 1, lag: 3 }, { partition: 2, lag: 0 }, { partition: 3, lag: null }] });
  });

  it('describes members with their partitions, and the group state', async () => {
    const members = await cli(['consumer-groups', 'describe', '--group', 'billing', '--members']);
    expect(members.out[0].split(/\s+/)).toEqual(['GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT']);
    expect(members.rows).toEqual([
      ['billing', 'c1-1-1', '-', 'c1', '2', 'orders(1,2)'],
      ['billing', 'c2-1-2', '-', 'c2', '1', 'orders(3)'],
    ]);
    const state = await cli(['consumer-groups', 'describe', '--group', 'billing', '--state']);
    expect(state.out[0].split(/\s+/)).toEqual(['GROUP', 'COORDINATOR', 'COORDINATOR-EPOCH', 'PROTOCOL-TYPE', 'ASSIGNMENT-STRATEGY', 'STATE', 'GENERATION', 'LEADER', '#MEMBERS']);
    expect(state.rows).toEqual([['billing', 'B', '3', 'consumer', 'range', 'Stable', '4', 'c1-1-1', '2']]);
  });

  it('says a group that does not exist does not exist (exit 1)', async () => {
    expect(await cli(['consumer-groups', 'describe', '--group', 'nobody'])).toMatchObject({ code: 1, out: [], err: ['cli: Consumer group "nobody" does not exist.'] });
  });

  it('reset-offsets prints the plan and commits nothing without --execute', async () => {
    const dry = await cli(['consumer-groups', 'reset-offsets', '--group', 'audit', '--topic', 'orders', '--to-offset', '9']);
    expect(dry.code).toBe(0);
    expect(dry.out[0].split(/\s+/)).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET']);
    expect(dry.rows).toEqual([
      ['audit', 'orders', '1', '4', '5'],
      ['audit', 'orders', '2', '-', '3'],
      ['audit', 'orders', '3', '-', '0'],
    ]);
    expect(dry.err).toEqual([
      'cli: 9 is past the log end 5 of orders-1: set to 5',
      'cli: 9 is past the log end 3 of orders-2: set to 3',
      'cli: 9 is past the log end 0 of orders-3: set to 0',
      'cli: dry run: nothing was committed; add --execute to commit these offsets.',
    ]);
    expect(dry.groups.commits).toEqual([]);
  });

  it('reset-offsets --execute commits with generation -1 at the coordinator\'s epoch, and describe then shows it', async () => {
    const groups = cluster();
    const executed = await cli(['consumer-groups', 'reset-offsets', '--group', 'audit', '--topic', 'orders:1', '--shift-by=-3', '--execute'], groups);
    expect(executed).toMatchObject({ code: 0, err: [] });
    expect(executed.rows).toEqual([['audit', 'orders', '1', '4', '1']]);
    expect(groups.commits).toEqual([{ api: 'OffsetCommit', groupId: 'audit', coordinatorEpoch: 3, generationId: -1, offsets: [{ topic: 'orders', partition: 1, offset: 1 }] }]);
    expect((await cli(['consumer-groups', 'describe', '--group', 'audit'], groups)).rows).toContainEqual(['audit', 'orders', '1', '1', '5', '4', '-', '-']);
    // A group that does not exist yet is created by the commit, as Kafka's reset does.
    const fresh = await cli(['consumer-groups', 'reset-offsets', '--group', 'new', '--topic', 'orders', '--to-latest', '--execute', '--json'], groups);
    expect(JSON.parse(fresh.out.join('\n'))).toMatchObject({ groupId: 'new', state: 'Dead', executed: true, partitions: [{ newOffset: 5 }, { newOffset: 3 }, { newOffset: 0 }] });
  });

  it('refuses to reset a group with members, and bad partitions, writing nothing', async () => {
    const active = await cli(['consumer-groups', 'reset-offsets', '--group', 'billing', '--topic', 'orders', '--to-earliest', '--execute']);
    expect(active).toMatchObject({ code: 1, out: [], err: ['cli: Assignments can only be reset if the group "billing" is inactive, but the current state is Stable'] });
    expect(active.groups.commits).toEqual([]);
    const beyond = await cli(['consumer-groups', 'reset-offsets', '--group', 'audit', '--topic', 'orders:4', '--to-earliest', '--execute']);
    expect(beyond).toMatchObject({ code: 2, err: ['cli: --topic: topic "orders" has partitions 1 to 3, not 4'] });
    expect(beyond.groups.commits).toEqual([]);
    const noCommit = await cli(['consumer-groups', 'reset-offsets', '--group', 'audit', '--topic', 'orders', '--shift-by', '1', '--execute']);
    expect(noCommit).toMatchObject({ code: 2, err: ['cli: --shift-by: group "audit" has no committed offset for orders-2 to shift'] });
    expect(noCommit.groups.commits).toEqual([]);
  });

  it('says why when a member joins between the plan and the commit (the coordinator refuses it)', async () => {
    const groups = cluster();
    const transport = groups.transport;
    // The group is Empty when described; a member has joined by the time the commit arrives.
    Object.assign(groups, {
      transport: ((name, payload, options) => {
        if (name === fakeOutputs.GroupsFunctionName && (JSON.parse(payload) as { api: string }).api === 'FindCoordinator') {
          groups.groups.get('audit')!.described.members = [member('late-1', 'late', [1])];
        }
        return transport(name, payload, options);
      }) satisfies typeof transport,
    });
    const raced = await cli(['consumer-groups', 'reset-offsets', '--group', 'audit', '--topic', 'orders', '--to-earliest', '--execute'], groups);
    expect(raced.code).toBe(1);
    expect(raced.err[0]).toBe('cli: Assignments can only be reset if the group "audit" is inactive: a member joined after the plan was made, and the coordinator refused the commit (nothing was written)');
    expect(groups.commits).toEqual([]);
  });
});
