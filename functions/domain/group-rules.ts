/**
 * The classic group protocol's rules, on a group item as read: pure, so each request is
 * one read, one decision and (at most) one conditional write. Helpers mutate the copy the
 * store returned; the caller writes it conditional on the version it read.
 */
import type { GroupProtocol, JoinGroupMember, JoinedGroup } from '../../protocol/messages.js';
import type { LeadershipSettings } from '../../protocol/settings.js';
import { InconsistentGroupProtocolError } from './errors.js';
import type { Group, GroupMember } from './group-model.js';

/** The name Kafka gives the internal topic that holds groups' offsets; its partitions' leaders are the coordinators. */
export const OFFSETS_TOPIC = '__consumer_offsets';

/** Kafka's offsets topic takes the broker default min.insync.replicas of 2 where it has the replicas for it. */
export const offsetsTopicMinInsync = (replicationFactor: number): number => Math.min(2, replicationFactor);

/** Java's String.hashCode, over UTF-16 code units, in int32 arithmetic. */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/** Kafka's partitionFor(groupId): Utils.abs(hashCode) % partitions, plus one as partitions here are numbered from 1. */
export function coordinatorPartitionOf(groupId: string, partitions: number): number {
  const hash = javaStringHashCode(groupId);
  const abs = hash === -(2 ** 31) ? 0 : Math.abs(hash);
  return (abs % partitions) + 1;
}

export function newGroup(groupId: string, now: number): Group {
  return {
    groupId,
    version: 0,
    incarnation: now,
    nextMemberNumber: 1,
    state: 'Empty',
    stateSince: now,
    generationId: 0,
    protocolType: null,
    protocolName: null,
    leader: null,
    members: [],
    pending: [],
    rebalance: null,
  };
}

export const findMember = (group: Group, memberId: string): GroupMember | undefined =>
  group.members.find((member) => member.memberId === memberId);

export const sameProtocols = (a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean =>
  a.length === b.length && a.every((protocol, i) => protocol.name === b[i].name && protocol.metadata === b[i].metadata);

/** Names every member offers, in the first member's order of preference. */
function candidateProtocols(members: readonly GroupMember[]): string[] {
  const [first, ...others] = members;
  if (first === undefined) return [];
  return first.protocols.map((p) => p.name).filter((name) => others.every((m) => m.protocols.some((p) => p.name === name)));
}

/**
 * Kafka's supportsProtocols: a member may join a group with other members only with their
 * protocol type and at least one protocol every one of them offers.
 */
export function requireConsistentProtocols(group: Group, memberId: string, protocolType: string, protocols: readonly GroupProtocol[]): void {
  const others = group.members.filter((member) => member.memberId !== memberId);
  if (others.length === 0) return;
  if (protocolType !== group.protocolType) {
    throw new InconsistentGroupProtocolError(`group "${group.groupId}" has protocol type "${group.protocolType ?? ''}", not "${protocolType}"`);
  }
  const candidates = candidateProtocols(others);
  if (!protocols.some((protocol) => candidates.includes(protocol.name))) {
    throw new InconsistentGroupProtocolError(
      `group "${group.groupId}": none of ${protocols.map((p) => p.name).join(', ')} is offered by every member (${candidates.join(', ') || 'none is'})`,
    );
  }
}

/** Kafka's selectProtocol: among the protocols every member offers, the one most members prefer (ties: the first member's order). */
export function selectProtocol(members: readonly GroupMember[]): string {
  const candidates = candidateProtocols(members);
  const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
  for (const member of members) {
    const choice = member.protocols.find((p) => votes.has(p.name));
    if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
  }
  let best = candidates[0];
  for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
  return best;
}

/** A new rebalance: every member must join again (the joiner has), within the longest rebalance timeout among them. */
export function startRebalance(group: Group, now: number, settings: LeadershipSettings, joinerId: string | null): void {
  const fromEmpty = group.state === 'Empty';
  group.state = 'PreparingRebalance';
  group.stateSince = now;
  for (const member of group.members) member.joined = member.memberId === joinerId;
  const timeout = Math.max(0, ...group.members.map((member) => member.rebalanceTimeoutMs));
  group.rebalance = {
    startedAt: now,
    notBeforeMs: fromEmpty ? now + settings.groupInitialRebalanceDelayMs : now,
    deadlineMs: now + timeout,
  };
}

/** The last member left: Kafka completes the rebalance with nobody, a new generation of an empty group. */
function becomeEmpty(group: Group, now: number): void {
  group.state = 'Empty';
  group.stateSince = now;
  group.generationId += 1;
  group.protocolType = null;
  group.protocolName = null;
  group.leader = null;
  group.rebalance = null;
}

/**
 * The barrier: a rebalance completes once every member joined (and, for an empty group's
 * first, the initial delay passed), or at its deadline, when the members that did not join
 * are removed. Completing starts the next generation. Returns the members it removed.
 */
export function advanceBarrier(group: Group, now: number): string[] {
  const barrier = group.rebalance;
  if (group.state !== 'PreparingRebalance' || barrier === null) return [];
  const allJoined = group.members.every((member) => member.joined);
  if (!(allJoined && now >= barrier.notBeforeMs) && now < barrier.deadlineMs) return [];
  const removed = group.members.filter((member) => !member.joined).map((member) => member.memberId);
  group.members = group.members.filter((member) => member.joined);
  if (group.members.length === 0) {
    becomeEmpty(group, now);
    return removed;
  }
  group.generationId += 1;
  group.state = 'CompletingRebalance';
  group.stateSince = now;
  group.protocolName = selectProtocol(group.members);
  if (group.leader === null || findMember(group, group.leader) === undefined) group.leader = group.members[0].memberId;
  group.rebalance = null;
  for (const member of group.members) {
    member.joined = false;
    member.assignment = null;
    member.sessionDeadlineMs = now + member.sessionTimeoutMs;
  }
  return removed;
}

/** After members left: an empty group, or a rebalance among the rest (one in progress may now complete). */
export function afterMembersLeft(group: Group, now: number, settings: LeadershipSettings): string[] {
  if (group.members.length === 0 && group.state !== 'Empty') {
    becomeEmpty(group, now);
    return [];
  }
  if (group.state === 'Stable' || group.state === 'CompletingRebalance') startRebalance(group, now, settings, null);
  return advanceBarrier(group, now);
}

/**
 * What time alone changes, judged on the coordinator's clock: member ids handed out and
 * never used lapse, members whose session lapsed are removed (except those waiting in a
 * rebalance they joined: the barrier bounds them), and a barrier whose time came
 * completes. Returns the members removed; the group changed if any were, or if `changed()`.
 */
export function tidy(group: Group, now: number, settings: LeadershipSettings): { removed: string[]; changed: boolean } {
  const before = JSON.stringify(group);
  group.pending = group.pending.filter((pending) => pending.deadlineMs >= now);
  const lapsed = group.members.filter((member) => member.sessionDeadlineMs < now && !(group.state === 'PreparingRebalance' && member.joined));
  const removed = lapsed.map((member) => member.memberId);
  if (lapsed.length > 0) {
    group.members = group.members.filter((member) => !removed.includes(member.memberId));
    removed.push(...afterMembersLeft(group, now, settings));
  } else {
    removed.push(...advanceBarrier(group, now));
  }
  return { removed, changed: JSON.stringify(group) !== before };
}

/** What JoinGroup answers a member of a completed rebalance: the leader gets every member's subscription for the chosen protocol. */
export function joinedAnswer(group: Group, member: GroupMember): JoinedGroup {
  const protocolName = group.protocolName ?? '';
  const leader = group.leader ?? '';
  const members: JoinGroupMember[] =
    member.memberId === leader
      ? group.members.map((m) => ({ memberId: m.memberId, metadata: m.protocols.find((p) => p.name === protocolName)?.metadata ?? '' }))
      : [];
  return { memberId: member.memberId, generationId: group.generationId, protocolType: group.protocolType ?? '', protocolName, leader, members };
}
