import { describe, expect, test } from 'vitest';
import { check } from './checker.js';
import { emptyHistory, type Ack, type FinalPartition, type History, type Read } from './history.js';

const ack = (over: Partial<Ack> = {}): Ack => ({
  producer: 'p0',
  partition: 't-1',
  acks: 'all',
  leader: 'A',
  leaderEpoch: 0,
  baseOffset: 0,
  values: ['v0', 'v1'],
  isrAtReturn: ['A', 'B'],
  minInsync: 2,
  step: 10,
  ...over,
});

const final = (over: Partial<FinalPartition> = {}): FinalPartition => ({
  partition: 't-1',
  state: 'ONLINE',
  leader: 'A',
  highWatermark: 2,
  leaderLogEnd: 2,
  log: [
    { offset: 0, value: 'v0' },
    { offset: 1, value: 'v1' },
  ],
  liveEligibleReplica: 'A',
  ...over,
});

const read = (over: Partial<Read> = {}): Read => ({
  consumer: 'c0',
  session: 0,
  partition: 't-1',
  offset: 0,
  records: [
    { offset: 0, value: 'v0' },
    { offset: 1, value: 'v1' },
  ],
  step: 20,
  ...over,
});

const history = (over: Partial<History> = {}): History => ({
  ...emptyHistory(),
  acks: [ack()],
  reads: [read()],
  appends: [{ partition: 't-1', replica: 'A', leaderEpoch: 0, offsets: [0, 1], tableLeader: 'A', tableEpoch: 0, step: 5 }],
  final: [final()],
  endStep: 100,
  ...over,
});

const kinds = (h: History) => check(h).map((v) => v.kind);

describe('checker', () => {
  test('a consistent history has no violations', () => {
    expect(check(history())).toEqual([]);
  });

  test('(1) an acked record missing from the final log, or under the final HW, is lost', () => {
    expect(kinds(history({ reads: [], final: [final({ highWatermark: 1, leaderLogEnd: 1, log: [{ offset: 0, value: 'v0' }] })] }))).toEqual([
      'acknowledged record lost',
    ]);
    const replaced = history({ final: [final({ log: [{ offset: 0, value: 'v0' }, { offset: 1, value: 'x' }] })] });
    expect(kinds(replaced)).toContain('acknowledged record lost');
    expect(check(replaced)[0].detail).toContain('shows x');
    expect(kinds(history({ final: [final({ log: [{ offset: 0, value: 'v0' }] })] }))).toEqual(['acknowledged record lost']);
  });

  test('(1) a consumer reading something else at an acked offset is a loss', () => {
    const h = history({ reads: [read({ records: [{ offset: 0, value: 'other' }] })] });
    expect(kinds(h)).toContain('acknowledged record lost');
  });

  test('(1) acks=1 acknowledgements count only in an acks=1 run', () => {
    const lost = { acks: [ack({ acks: '1' })], final: [final({ highWatermark: 0, leaderLogEnd: 0, log: [] })], reads: [] };
    expect(kinds(history(lost))).toEqual([]);
    expect(kinds(history({ ...lost, lossCheckedAcks: ['all', '1'] }))).toEqual([
      'acknowledged record lost',
      'acknowledged record lost',
    ]);
  });

  test('(2) two reads of one offset with different values', () => {
    const h = history({
      acks: [],
      reads: [read(), read({ consumer: 'c1', records: [{ offset: 0, value: 'v0' }, { offset: 1, value: 'changed' }] })],
    });
    expect(kinds(h)).toEqual(['value changed']); // reported once per offset, though the final read differs too
    expect(check(h)[0].detail).toContain('t-1@1');
  });

  test('(3) non-contiguous or backwards consumption in one session', () => {
    const gap = history({ reads: [read({ records: [{ offset: 0, value: 'v0' }, { offset: 2, value: 'v2' }] })], acks: [], final: [] });
    expect(kinds(gap)).toEqual(['non-monotonic consumption']);
    const back = history({ reads: [read(), read({ offset: 0, step: 30 })], acks: [], final: [] });
    expect(kinds(back)).toEqual(['non-monotonic consumption']);
    const newSession = history({ reads: [read(), read({ offset: 0, session: 1, step: 30 })], acks: [], final: [] });
    expect(kinds(newSession)).toEqual([]);
  });

  test('(4) a leader append committed while the table named another epoch', () => {
    const h = history({
      appends: [{ partition: 't-1', replica: 'A', leaderEpoch: 0, offsets: [2], tableLeader: 'B', tableEpoch: 1, step: 40 }],
    });
    expect(kinds(h)).toEqual(['stale-epoch write accepted']);
  });

  test('(5) two replicas appending as leader in one epoch', () => {
    const h = history({
      appends: [
        { partition: 't-1', replica: 'A', leaderEpoch: 3, offsets: [0], tableLeader: 'A', tableEpoch: 3, step: 40 },
        { partition: 't-1', replica: 'B', leaderEpoch: 3, offsets: [0], tableLeader: 'B', tableEpoch: 3, step: 50 },
      ],
    });
    expect(kinds(h)).toEqual(['two leaders in one epoch']);
  });

  test('(6) acks=all answered with the ISR below min.insync.replicas (acks=1 never promised it)', () => {
    expect(kinds(history({ acks: [ack({ isrAtReturn: ['A'] })] }))).toEqual(['acked below min.insync']);
    expect(kinds(history({ acks: [ack({ acks: '1', isrAtReturn: ['A'] })] }))).toEqual([]);
  });

  test('(7) offline with a live eligible replica, or an HW behind the leader after the heal', () => {
    const offline = final({ state: 'OFFLINE', leader: null, leaderLogEnd: 0, log: [], liveEligibleReplica: 'B' });
    expect(kinds(history({ final: [offline], acks: [], reads: [] }))).toEqual(['not live after heal']);
    const stuck = final({ leaderLogEnd: 5 });
    expect(kinds(history({ final: [stuck] }))).toEqual(['not live after heal']);
    const hopeless = final({ state: 'OFFLINE', leader: null, leaderLogEnd: 0, log: [], liveEligibleReplica: null });
    expect(kinds(history({ final: [hopeless], acks: [], reads: [] }))).toEqual([]);
  });

  test('(8, 9) with idempotent producers, a value committed twice is a duplicate and a later-sent one first is reordered', () => {
    const twice = final({ highWatermark: 3, leaderLogEnd: 3, log: [{ offset: 0, value: 'p0-1' }, { offset: 1, value: 'p0-2' }, { offset: 2, value: 'p0-2' }] });
    const swapped = final({ log: [{ offset: 0, value: 'p0-2' }, { offset: 1, value: 'p0-1' }] });
    const base = { acks: [], reads: [] };
    expect(kinds(history({ ...base, final: [twice] }))).toEqual(['duplicate']);
    expect(kinds(history({ ...base, final: [swapped] }))).toEqual(['reordered']);
    expect(kinds(history({ ...base, final: [twice], idempotentProducers: false }))).toEqual([]);
  });

  test('(10) a sent batch committed in part, or out of its order, is torn; one committed whole or not at all is not', () => {
    const log = (...values: string[]) => values.map((value, offset) => ({ offset, value }));
    const batch = { producer: 'p0', partition: 't-1', values: ['p0-0', 'p0-1', 'p0-2'], step: 5 };
    const withLog = (values: string[]) =>
      kinds(history({ acks: [], reads: [], batches: [batch], final: [final({ highWatermark: values.length, leaderLogEnd: values.length, log: log(...values) })] }));
    expect(withLog(['p0-0', 'p0-1', 'p0-2'])).toEqual([]);
    expect(withLog(['p1-0'])).toEqual([]);
    expect(withLog(['p0-0', 'p0-1'])).toEqual(['torn batch']);
    expect(withLog(['p0-0', 'p1-0', 'p0-1', 'p0-2'])).toEqual(['torn batch']);
  });
});
