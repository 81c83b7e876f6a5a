/**
 * A consumer group as its coordinator keeps it: one group item (membership, generation,
 * rebalance) and one item per committed partition, behind the GroupStore port. Pure types.
 */
import type { BrokerId } from './model.js';
import type { GroupProtocol, GroupStateName } from '../../protocol/messages.js';

/** Kafka's classic group states (Dead: deleted, which the store shows as no item). */
export { GROUP_STATES, type GroupStateName } from '../../protocol/messages.js';

export interface GroupMember {
  memberId: string;
  /** A static member's group.instance.id (KIP-345), else null. */
  groupInstanceId: string | null;
  clientId: string;
  /** As the member offered them in its last JoinGroup, in its order of preference. */
  protocols: GroupProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** On the coordinator's clock: past it (and not waiting in a rebalance it joined) the member is removed. */
  sessionDeadlineMs: number;
  /** It joined the rebalance in progress (PreparingRebalance only). */
  joined: boolean;
  /** Its part of this generation's assignment, once the leader synced (Stable). */
  assignment: string | null;
}

/** A member id handed out with MEMBER_ID_REQUIRED and not yet used to join (KIP-394). */
export interface PendingMember {
  memberId: string;
  deadlineMs: number;
}

export interface RebalanceBarrier {
  startedAt: number;
  /** The barrier does not complete before this (group.initial.rebalance.delay.ms for an empty group). */
  notBeforeMs: number;
  /** The rebalance timeout: at this point members that did not join are removed and it completes. */
  deadlineMs: number;
}

export interface Group {
  groupId: string;
  /** Bumped by every write of the group item: the condition of the next one. */
  version: number;
  /** When this item was created: part of every member id it gives, so a recreated group never reuses one. */
  incarnation: number;
  /** The number in the next member id it gives. */
  nextMemberNumber: number;
  state: GroupStateName;
  /** When the group entered `state` (an empty group's offsets expire from there). */
  stateSince: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string | null;
  /** In the order they joined. */
  members: GroupMember[];
  pending: PendingMember[];
  /** Present in PreparingRebalance. */
  rebalance: RebalanceBarrier | null;
}

export interface CommittedOffset {
  groupId: string;
  topic: string;
  partition: number;
  offset: number;
  committedLeaderEpoch: number;
  metadata: string;
  committedAt: number;
}

/** The coordinator a request was served under: every group write requires it to still lead its partition at this epoch. */
export interface CoordinatorFence {
  topic: string;
  partition: number;
  leader: BrokerId;
  leaderEpoch: number;
}
