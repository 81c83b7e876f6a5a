import { describe, expect, test } from 'vitest';
import { check } from './checker.js';
import { emptyHistory, type GroupCommit, type GroupOffsetWrite, type History } from './history.js';

const final = { partition: 't-1', state: 'ONLINE' as const, leader: 'A', highWatermark: 3, leaderLogEnd: 3, liveEligibleReplica: 'A' };
const log = [
  { offset: 0, value: 'v0' },
  { offset: 1, value: 'v1' },
  { offset: 2, value: 'v2' },
];
const commit = (over: Partial<GroupCommit> = {}): GroupCommit => ({
  member: 'g0',
  memberId: 'g0-x-1',
  generation: 1,
  partition: 't-1',
  offset: 2,
  sentStep: 10,
  outcome: 'acked',
  step: 12,
  ...over,
});
const write = (over: Partial<GroupOffsetWrite> = {}): GroupOffsetWrite => ({
  memberId: 'g0-x-1',
  generation: 1,
  partition: 't-1',
  offset: 2,
  tableIncarnation: 5,
  tableGeneration: 1,
  tableHasMember: true,
  step: 12,
  ...over,
});

/** A group that processed the whole partition and committed 2, then 3; the drain left 3. */
const history = (over: Partial<History> = {}): History => ({
  ...emptyHistory(),
  group: true,
  acks: [{ producer: 'p0', partition: 't-1', acks: 'all', leader: 'A', leaderEpoch: 0, baseOffset: 0, values: ['v0', 'v1', 'v2'], isrAtReturn: ['A', 'B'], minInsync: 2, step: 5 }],
  final: [{ ...final, log }],
  endStep: 100,
  groupAssignments: [
    { member: 'g0', owner: 'g0-x-1', incarnation: 'x', generation: 1, partitions: ['t-1'], step: 8 },
    { member: 'g1', owner: 'g1-x-2', incarnation: 'x', generation: 1, partitions: ['t-2'], step: 8 },
  ],
  groupCommits: [commit(), commit({ offset: 3, sentStep: 20, step: 22 })],
  groupFetches: [{ member: 'g1', partition: 't-1', offset: 3, sentStep: 30, step: 31 }],
  groupWrites: [write(), write({ offset: 3, step: 22 })],
  groupProcessed: log.map((r, i) => ({ member: 'g0', generation: 1, partition: 't-1', offset: r.offset, value: r.value, step: 9 + i })),
  groupFinal: [{ partition: 't-1', offset: 3, step: 120 }],
  groupDrain: [{ partition: 't-1', committed: 3, highWatermark: 3 }],
  ...over,
});

const kinds = (h: History) => check(h).map((v) => v.kind);

describe('checker: the group rules', () => {
  test('a consistent group history has no violations, and none is judged in a run without a group', () => {
    expect(check(history())).toEqual([]);
    expect(check(history({ group: false, groupFinal: [{ partition: 't-1', offset: -1, step: 120 }] }))).toEqual([]);
  });

  test('two owners of a partition in one generation of one incarnation; a static member restarted is one owner; a recreated group counts again', () => {
    const twice = history({ groupAssignments: [...history().groupAssignments, { member: 'g2', owner: 'g2-x-3', incarnation: 'x', generation: 1, partitions: ['t-1'], step: 9 }] });
    expect(kinds(twice)).toEqual(['partition owned twice']);
    const restarted = [
      { member: 'g0', owner: 'i0', incarnation: 'x', generation: 1, partitions: ['t-1'], step: 8 },
      { member: "g0'", owner: 'i0', incarnation: 'x', generation: 1, partitions: ['t-1'], step: 9 },
    ];
    expect(kinds(history({ groupAssignments: restarted }))).toEqual([]);
    const recreated = [...history().groupAssignments, { member: 'g2', owner: 'g2-y-1', incarnation: 'y', generation: 1, partitions: ['t-1'], step: 50 }];
    expect(kinds(history({ groupAssignments: recreated }))).toEqual([]);
  });

  test('a fetch below the last acknowledged commit is a lost commit, unless a later commit (acknowledged or of unknown outcome) set it', () => {
    expect(kinds(history({ groupFetches: [{ member: 'g1', partition: 't-1', offset: 2, sentStep: 30, step: 31 }] }))).toEqual(['acknowledged commit lost']);
    expect(kinds(history({ groupFinal: [{ partition: 't-1', offset: -1, step: 120 }] }))).toEqual(['acknowledged commit lost']);
    // Sent before the fetch answered, answered after the commit of 3 was sent: it may have landed last.
    const later = commit({ offset: 1, sentStep: 21, step: 40, outcome: 'unknown' });
    expect(kinds(history({ groupCommits: [...history().groupCommits, later], groupFetches: [{ member: 'g1', partition: 't-1', offset: 1, sentStep: 30, step: 41 }] }))).not.toContain('acknowledged commit lost');
    // A refused commit wrote nothing: it explains nothing.
    const refused = { ...later, outcome: 'refused' as const };
    expect(kinds(history({ groupCommits: [...history().groupCommits, refused], groupFetches: [{ member: 'g1', partition: 't-1', offset: 1, sentStep: 30, step: 41 }] }))).toContain('acknowledged commit lost');
    // A fetch sent before the commit was acknowledged may show what was there before.
    expect(kinds(history({ groupFetches: [{ member: 'g1', partition: 't-1', offset: 2, sentStep: 21, step: 23 }] }))).toEqual([]);
  });

  test('a written commit that lowers the offset within one generation went backwards; across generations it did not', () => {
    expect(kinds(history({ groupWrites: [write({ offset: 3 }), write({ offset: 2, step: 22 })] }))).toEqual(['commit went backwards']);
    expect(kinds(history({ groupWrites: [write({ offset: 3 }), write({ offset: 2, generation: 2, tableGeneration: 2, step: 22 })] }))).toEqual([]);
  });

  test("a commit written for a generation the group is not at, or for a member it does not hold, is a zombie's", () => {
    expect(kinds(history({ groupWrites: [write({ tableGeneration: 2 })] }))).toEqual(['zombie commit accepted']);
    expect(kinds(history({ groupWrites: [write({ tableHasMember: false })] }))).toEqual(['zombie commit accepted']);
  });

  test('a record below the final high watermark that no member processed was skipped; one processed only with another value too', () => {
    const processed = history().groupProcessed;
    expect(kinds(history({ groupProcessed: processed.filter((p) => p.offset !== 1) }))).toEqual(['record skipped by group']);
    expect(kinds(history({ groupProcessed: processed.map((p) => (p.offset === 1 ? { ...p, value: 'other' } : p)) }))).toEqual(['record skipped by group']);
    // Processed twice (reprocessing after a rebalance) is at least once.
    expect(kinds(history({ groupProcessed: [...processed, ...processed] }))).toEqual([]);
  });
});
