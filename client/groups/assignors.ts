/**
 * Kafka's consumer partition assignors, run by a group's leader member: range, roundrobin
 * and cooperative-sticky (KIP-429). Pure: members' subscriptions and the topics' partition
 * counts in, each member's partitions out.
 *
 * Every assignor here runs under the cooperative protocol: a member keeps the partitions it
 * owns while it rejoins, so `withholdMoving` is applied to whatever an assignor decides. A
 * partition the assignor gives to one member while another still reports owning it is given
 * to nobody in this generation: its owner revokes it on seeing its assignment and rejoins,
 * and the next generation hands it over. No partition is ever held by two members at once.
 */
import type { AssignorName, TopicPartitions } from '../../protocol/consumer-protocol.js';

export interface MemberSubscription {
  memberId: string;
  /** A static member's group.instance.id: range and roundrobin order by it when present (Kafka's rule). */
  groupInstanceId?: string;
  topics: string[];
  /** What the member owns as it rejoins (cooperative), with the generation it owned them in. */
  ownedPartitions: TopicPartitions[];
  /** The generation in which it owned them, -1 when unknown: a newer claim of a partition beats an older one. */
  generation: number;
}

/** Each member's partitions, ascending per topic, topics in name order; every member is present (maybe with none). */
export type GroupAssignmentPlan = Map<string, TopicPartitions[]>;

/** Partitions of each topic (numbered from 1); a subscribed topic missing here gets no assignment. */
export type PartitionCounts = ReadonlyMap<string, number>;

type Assignor = (members: readonly MemberSubscription[], counts: PartitionCounts) => Map<string, string[]>;

const tp = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const splitTp = (key: string): [string, number] => {
  const at = key.lastIndexOf('\u0000');
  return [key.slice(0, at), Number(key.slice(at + 1))];
};

/** The order range and roundrobin deal in: a static member by its instance id (stable across restarts), others by member id. */
const memberOrder = (a: MemberSubscription, b: MemberSubscription): number => compare(a.groupInstanceId ?? a.memberId, b.groupInstanceId ?? b.memberId);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function partitionsOf(topic: string, counts: PartitionCounts): string[] {
  const count = counts.get(topic) ?? 0;
  return Array.from({ length: count }, (_, index) => tp(topic, index + 1));
}

/** Kafka's RangeAssignor: per topic, its members in order each take a contiguous range, the first ones one more. */
const range: Assignor = (members, counts) => {
  const result = new Map<string, string[]>(members.map((m) => [m.memberId, []]));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compare);
  for (const topic of topics) {
    const subscribers = members.filter((m) => m.topics.includes(topic)).sort(memberOrder);
    const partitions = partitionsOf(topic, counts);
    const each = Math.floor(partitions.length / subscribers.length);
    const extra = partitions.length % subscribers.length;
    let next = 0;
    subscribers.forEach((member, index) => {
      const take = each + (index < extra ? 1 : 0);
      result.get(member.memberId)?.push(...partitions.slice(next, next + take));
      next += take;
    });
  }
  return result;
};

/** Kafka's RoundRobinAssignor: every partition in (topic, partition) order dealt to the next member in order that subscribes to its topic. */
const roundrobin: Assignor = (members, counts) => {
  const result = new Map<string, string[]>(members.map((m) => [m.memberId, []]));
  const ordered = [...members].sort(memberOrder);
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compare);
  let cursor = 0;
  for (const topic of topics) {
    for (const partition of partitionsOf(topic, counts)) {
      for (let tried = 0; tried < ordered.length; tried += 1) {
        const member = ordered[(cursor + tried) % ordered.length];
        if (member.topics.includes(topic)) {
          result.get(member.memberId)?.push(partition);
          cursor = (cursor + tried + 1) % ordered.length;
          break;
        }
      }
    }
  }
  return result;
};

/**
 * Which member keeps each owned partition: the claim of the newest generation (ties: the
 * first member id), only if the member still subscribes to its topic and it still exists.
 */
function validOwners(members: readonly MemberSubscription[], counts: PartitionCounts): Map<string, MemberSubscription> {
  const owners = new Map<string, MemberSubscription>();
  for (const member of [...members].sort((a, b) => b.generation - a.generation || compare(a.memberId, b.memberId))) {
    for (const { topic, partitions } of member.ownedPartitions) {
      if (!member.topics.includes(topic)) continue;
      for (const partition of partitions) {
        if (partition > (counts.get(topic) ?? 0)) continue;
        const key = tp(topic, partition);
        if (!owners.has(key)) owners.set(key, member);
      }
    }
  }
  return owners;
}

/**
 * Kafka's (cooperative) sticky assignor: every member keeps what it validly owns, the rest
 * goes to the eligible member with the fewest partitions, then partitions move one at a time
 * from a member with the most to an eligible one with at least two fewer until none can.
 * With equal subscriptions that leaves counts differing by at most one, moving as few as
 * that allows.
 */
const cooperativeSticky: Assignor = (members, counts) => {
  const owned = new Map<string, Set<string>>(members.map((m) => [m.memberId, new Set<string>()]));
  for (const [partition, owner] of validOwners(members, counts)) owned.get(owner.memberId)?.add(partition);
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compare);
  const all = topics.flatMap((topic) => partitionsOf(topic, counts));
  const taken = new Set([...owned.values()].flatMap((set) => [...set]));
  const eligible = (partition: string): MemberSubscription[] => members.filter((m) => m.topics.includes(splitTp(partition)[0]));
  const fewest = (candidates: readonly MemberSubscription[]): MemberSubscription =>
    candidates.reduce((best, m) => {
      const difference = (owned.get(m.memberId)?.size ?? 0) - (owned.get(best.memberId)?.size ?? 0);
      return difference < 0 || (difference === 0 && compare(m.memberId, best.memberId) < 0) ? m : best;
    });
  for (const partition of all) {
    if (taken.has(partition)) continue;
    const candidates = eligible(partition);
    if (candidates.length > 0) owned.get(fewest(candidates).memberId)?.add(partition);
  }
  for (let moved = true; moved; ) {
    moved = false;
    const richestFirst = [...members].sort((a, b) => (owned.get(b.memberId)?.size ?? 0) - (owned.get(a.memberId)?.size ?? 0) || compare(a.memberId, b.memberId));
    for (const rich of richestFirst) {
      const mine = owned.get(rich.memberId) as Set<string>;
      // The newest partitions first: the ones it was given last are the ones it has owned least.
      for (const partition of [...mine].sort().reverse()) {
        const poorest = fewest(eligible(partition));
        if ((owned.get(poorest.memberId)?.size ?? 0) + 1 < mine.size) {
          mine.delete(partition);
          owned.get(poorest.memberId)?.add(partition);
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
  }
  return new Map([...owned].map(([memberId, set]) => [memberId, [...set]]));
};

const ASSIGNORS: Record<AssignorName, Assignor> = {
  range,
  roundrobin,
  'cooperative-sticky': cooperativeSticky,
};

/**
 * The cooperative rule on any assignment: a partition given to one member while another
 * member reports owning it is withheld this generation (the owner revokes it first).
 */
function withholdMoving(plan: Map<string, string[]>, members: readonly MemberSubscription[]): Map<string, string[]> {
  const claimedBy = new Map<string, Set<string>>();
  for (const member of members) {
    for (const { topic, partitions } of member.ownedPartitions) {
      for (const partition of partitions) {
        const key = tp(topic, partition);
        claimedBy.set(key, (claimedBy.get(key) ?? new Set()).add(member.memberId));
      }
    }
  }
  return new Map(
    [...plan].map(([memberId, partitions]) => [
      memberId,
      partitions.filter((partition) => [...(claimedBy.get(partition) ?? [])].every((claimant) => claimant === memberId)),
    ]),
  );
}

function toTopicPartitions(keys: readonly string[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const [topic, partition] = splitTp(key);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  }
  return [...byTopic]
    .sort(([a], [b]) => compare(a, b))
    .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** The leader's assignment for a generation with assignor `name`, the cooperative rule applied. */
export function assignPartitions(name: AssignorName, members: readonly MemberSubscription[], counts: PartitionCounts): GroupAssignmentPlan {
  if (members.length === 0) return new Map();
  const plan = withholdMoving(ASSIGNORS[name](members, counts), members);
  return new Map(members.map((m) => [m.memberId, toTopicPartitions(plan.get(m.memberId) ?? [])]));
}

/** "topic-partition" keys of a TopicPartitions list, for set arithmetic. */
export const keysOf = (list: readonly TopicPartitions[]): string[] => list.flatMap(({ topic, partitions }) => partitions.map((p) => tp(topic, p)));
export const fromKeys = toTopicPartitions;
