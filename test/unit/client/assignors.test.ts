import { describe, expect, it } from 'vitest';
import { assignPartitions, keysOf, type MemberSubscription } from '../../../client/groups/assignors.js';
import { ASSIGNOR_NAMES, type TopicPartitions } from '../../../protocol/consumer-protocol.js';

const member = (memberId: string, topics: string[], owned: TopicPartitions[] = [], generation = -1, extra: Partial<MemberSubscription> = {}): MemberSubscription => ({
  memberId,
  topics,
  ownedPartitions: owned,
  generation,
  ...extra,
});

const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));
const sizes = (plan: Map<string, TopicPartitions[]>) => [...plan.values()].map((parts) => keysOf(parts).length);

/** Every partition of the members' subscribed topics, once, only to a member subscribing to its topic. */
function expectCompleteAndDisjoint(plan: Map<string, TopicPartitions[]>, members: MemberSubscription[], partitionCounts: Map<string, number>): void {
  const seen = new Set<string>();
  for (const [memberId, parts] of plan) {
    const subscriber = members.find((m) => m.memberId === memberId) as MemberSubscription;
    for (const { topic } of parts) expect(subscriber.topics, `${memberId} got ${topic}`).toContain(topic);
    for (const key of keysOf(parts)) {
      expect(seen.has(key), `${key} given twice`).toBe(false);
      seen.add(key);
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics));
  const expected = [...subscribed].reduce((sum, topic) => sum + (partitionCounts.get(topic) ?? 0), 0);
  expect(seen.size).toBe(expected);
}

/** A deterministic pseudo-random sequence, for generated cases. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('assignors', () => {
  it("range: per topic, contiguous ranges in member order, the first members one more (Kafka's example)", () => {
    const members = [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])];
    const plan = assignPartitions('range', members, counts({ t0: 3, t1: 3 }));
    expect(plan.get('c0')).toEqual([{ topic: 't0', partitions: [1, 2] }, { topic: 't1', partitions: [1, 2] }]);
    expect(plan.get('c1')).toEqual([{ topic: 't0', partitions: [3] }, { topic: 't1', partitions: [3] }]);
  });

  it('range and roundrobin order static members by their instance id, so a restart under a new member id changes nothing', () => {
    for (const name of ['range', 'roundrobin'] as const) {
      const before = assignPartitions(name, [member('m-9', ['t'], [], -1, { groupInstanceId: 'a' }), member('m-1', ['t'], [], -1, { groupInstanceId: 'b' })], counts({ t: 4 }));
      const after = assignPartitions(name, [member('m-10', ['t'], [], -1, { groupInstanceId: 'a' }), member('m-1', ['t'], [], -1, { groupInstanceId: 'b' })], counts({ t: 4 }));
      expect(after.get('m-10')).toEqual(before.get('m-9'));
    }
  });

  it("roundrobin: every partition dealt in turn to the next member subscribing to its topic (Kafka's example)", () => {
    const members = [member('c0', ['t0']), member('c1', ['t0', 't1']), member('c2', ['t0', 't1', 't2'])];
    const plan = assignPartitions('roundrobin', members, counts({ t0: 1, t1: 2, t2: 3 }));
    expect(plan.get('c0')).toEqual([{ topic: 't0', partitions: [1] }]);
    expect(plan.get('c1')).toEqual([{ topic: 't1', partitions: [1] }]);
    expect(plan.get('c2')).toEqual([{ topic: 't1', partitions: [2] }, { topic: 't2', partitions: [1, 2, 3] }]);
  });

  it('every assignor assigns every subscribed partition once, and nothing of an unknown topic', () => {
    const members = [member('a', ['x', 'y']), member('b', ['y']), member('c', ['x', 'missing'])];
    for (const name of ASSIGNOR_NAMES) {
      const partitionCounts = counts({ x: 5, y: 7 });
      const plan = assignPartitions(name, members, partitionCounts);
      expect([...plan.keys()].sort()).toEqual(['a', 'b', 'c']);
      expectCompleteAndDisjoint(plan, members.map((m) => ({ ...m, topics: m.topics.filter((t) => t !== 'missing') })), partitionCounts);
    }
  });

  it('cooperative-sticky: balanced from nothing, and a new member takes only what must move (each keeps what it owned)', () => {
    const fresh = assignPartitions('cooperative-sticky', [member('a', ['t']), member('b', ['t'])], counts({ t: 12 }));
    expect(sizes(fresh)).toEqual([6, 6]);
    const owned = (id: string) => fresh.get(id) ?? [];
    // Generation 2: c joins; a and b report what they own, so what moves is withheld this generation.
    const members = [member('a', ['t'], owned('a'), 1), member('b', ['t'], owned('b'), 1), member('c', ['t'])];
    const second = assignPartitions('cooperative-sticky', members, counts({ t: 12 }));
    expect(sizes(second)).toEqual([4, 4, 0]);
    for (const id of ['a', 'b']) for (const key of keysOf(second.get(id) ?? [])) expect(keysOf(owned(id))).toContain(key);
    // Generation 3: a and b revoked their two each; c gets exactly those.
    const third = assignPartitions('cooperative-sticky', [member('a', ['t'], second.get('a'), 2), member('b', ['t'], second.get('b'), 2), member('c', ['t'], [], 2)], counts({ t: 12 }));
    expect(sizes(third)).toEqual([4, 4, 4]);
    expect(third.get('a')).toEqual(second.get('a'));
    expect(third.get('b')).toEqual(second.get('b'));
    expect(keysOf(third.get('c') ?? []).sort()).toEqual([...keysOf(owned('a')), ...keysOf(owned('b'))].filter((k) => !keysOf(third.get('a') ?? []).includes(k) && !keysOf(third.get('b') ?? []).includes(k)).sort());
  });

  it('cooperative-sticky: a member leaving moves only its partitions', () => {
    const three = assignPartitions('cooperative-sticky', [member('a', ['t']), member('b', ['t']), member('c', ['t'])], counts({ t: 12 }));
    const two = assignPartitions('cooperative-sticky', [member('a', ['t'], three.get('a'), 1), member('b', ['t'], three.get('b'), 1)], counts({ t: 12 }));
    expect(sizes(two)).toEqual([6, 6]);
    for (const id of ['a', 'b']) for (const key of keysOf(three.get(id) ?? [])) expect(keysOf(two.get(id) ?? [])).toContain(key);
  });

  it('a partition two members claim goes to the newer generation, and is withheld from any member while another claims it', () => {
    const plan = assignPartitions('cooperative-sticky', [member('old', ['t'], [{ topic: 't', partitions: [1] }], 3), member('new', ['t'], [{ topic: 't', partitions: [1] }], 5)], counts({ t: 2 }));
    expect(keysOf(plan.get('new') ?? [])).not.toContain(keysOf([{ topic: 't', partitions: [1] }])[0]);
    expect(keysOf(plan.get('old') ?? [])).not.toContain(keysOf([{ topic: 't', partitions: [1] }])[0]);
  });

  it('any assignor, with members owning partitions, never hands a partition to one member while another still owns it', () => {
    const next = random(42);
    for (let round = 0; round < 200; round += 1) {
      const name = ASSIGNOR_NAMES[round % ASSIGNOR_NAMES.length];
      const partitionCounts = counts({ t: 1 + Math.floor(next() * 30), u: Math.floor(next() * 10) });
      const ids = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => `m${i}`);
      const previous = assignPartitions(name, ids.map((id) => member(id, next() < 0.7 ? ['t', 'u'] : ['t'])), partitionCounts);
      const members = ids.filter(() => next() < 0.8).concat(['late']).map((id) => member(id, next() < 0.7 ? ['t', 'u'] : ['t'], previous.get(id) ?? [], 1));
      const plan = assignPartitions(name, members, partitionCounts);
      for (const [id, parts] of plan) {
        for (const key of keysOf(parts)) {
          const otherOwner = members.find((m) => m.memberId !== id && keysOf(m.ownedPartitions).includes(key));
          expect(otherOwner, `${name} round ${round}: ${key} to ${id} while ${otherOwner?.memberId ?? ''} owns it`).toBeUndefined();
        }
      }
      // With nobody owning anything, the assignment is complete.
      const clean = members.map((m) => ({ ...m, ownedPartitions: [] }));
      expectCompleteAndDisjoint(assignPartitions(name, clean, partitionCounts), clean, partitionCounts);
    }
  });

  it('cooperative-sticky with equal subscriptions is balanced (counts differ by at most one) after any history', () => {
    const next = random(7);
    let owned = new Map<string, TopicPartitions[]>();
    let ids = ['a', 'b'];
    for (let generation = 1; generation <= 60; generation += 1) {
      if (next() < 0.3) ids = [...ids, `m${generation}`];
      if (next() < 0.3 && ids.length > 1) {
        const leaving = Math.floor(next() * ids.length);
        ids = ids.filter((_, i) => i !== leaving);
      }
      const members = ids.map((id) => member(id, ['t'], owned.get(id) ?? [], generation - 1));
      // Two rounds: the first withholds what moves, the second (after revocations) completes it.
      const first = assignPartitions('cooperative-sticky', members, counts({ t: 20 }));
      const settled = assignPartitions('cooperative-sticky', ids.map((id) => member(id, ['t'], first.get(id) ?? [], generation)), counts({ t: 20 }));
      const counted = sizes(settled);
      expect(Math.max(...counted) - Math.min(...counted)).toBeLessThanOrEqual(1);
      expect(counted.reduce((a, b) => a + b, 0)).toBe(20);
      owned = settled;
    }
  });
});
