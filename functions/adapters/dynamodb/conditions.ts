/**
 * Named condition expressions. Every conditional write in the adapters is built
 * from these, so the rule a write depends on reads as a name ("partitionVersionIs")
 * rather than as an expression string, and a lost condition can be reported by
 * its description.
 *
 * Placeholders are unique per condition (`:expectedVersion`, `:now`, ...) so any
 * two different conditions can be combined with `allOf` without clashing.
 */
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type { BrokerId } from '../../domain/model.js';

export interface Condition {
  /** Human-readable rule, used in error messages ("partition version is 4"). */
  readonly description: string;
  readonly expr: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, NativeAttributeValue>;
}

/** The expression parts every DynamoDB write accepts. */
export interface ExpressionParts {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, NativeAttributeValue>;
}

// ---- existence -------------------------------------------------------------

/** The item does not exist yet (checked on its partition-key attribute). */
export const itemAbsent = (keyAttribute: string, what: string): Condition => ({
  description: `${what} does not exist yet`,
  expr: 'attribute_not_exists(#absentKey)',
  names: { '#absentKey': keyAttribute },
  values: {},
});

// ---- broker leases (heartbeat table) -----------------------------------------

export const incarnationIs = (incarnation: number): Condition => ({
  description: `broker incarnation is ${incarnation}`,
  expr: '#incarnation = :expectedIncarnation',
  names: { '#incarnation': 'incarnation' },
  values: { ':expectedIncarnation': incarnation },
});

/** Liveness is judged as deadline >= now on the judge's clock (Kafka's session timeout rule). */
export const leaseLiveAt = (now: number): Condition => ({
  description: `lease still live at ${now}`,
  expr: '#deadlineMs >= :liveAt',
  names: { '#deadlineMs': 'deadlineMs' },
  values: { ':liveAt': now },
});

/** The lease carries the controlled-shutdown flag (true), or does not (false). */
export const shuttingDownIs = (shuttingDown: boolean): Condition =>
  shuttingDown
    ? {
        description: 'broker is shutting down',
        expr: '#shuttingDown = :shuttingDown',
        names: { '#shuttingDown': 'shuttingDown' },
        values: { ':shuttingDown': true },
      }
    : {
        description: 'broker is not shutting down',
        expr: 'attribute_not_exists(#shuttingDown)',
        names: { '#shuttingDown': 'shuttingDown' },
        values: {},
      };

/** The controlled-shutdown mark's deadline is this one, or (undefined) there is none. */
export const shutdownDeadlineIs = (deadlineMs: number | undefined): Condition =>
  deadlineMs === undefined
    ? {
        description: 'the lease has no shutdown deadline',
        expr: 'attribute_not_exists(#shutdownDeadlineMs)',
        names: { '#shutdownDeadlineMs': 'shutdownDeadlineMs' },
        values: {},
      }
    : {
        description: `the shutdown deadline is ${deadlineMs}`,
        expr: '#shutdownDeadlineMs = :shutdownDeadlineMs',
        names: { '#shutdownDeadlineMs': 'shutdownDeadlineMs' },
        values: { ':shutdownDeadlineMs': deadlineMs },
      };

export const leaseExpiredAt = (now: number): Condition => ({
  description: `lease expired before ${now}`,
  expr: '#deadlineMs < :expiredAt',
  names: { '#deadlineMs': 'deadlineMs' },
  values: { ':expiredAt': now },
});

// ---- topics (metadata table) --------------------------------------------------

/** A topic item's `creation` while its partitions are still being written (topic-creation-steps.ts); absent or CREATED once done. */
export const TOPIC_CREATING = 'CREATING';

/** The topic's creation began and has not been marked finished. */
export const topicCreationUnfinished: Condition = {
  description: 'topic creation not finished yet',
  expr: '#creation = :creating',
  names: { '#creation': 'creation' },
  values: { ':creating': TOPIC_CREATING },
};

// ---- partition leadership (metadata table) -----------------------------------

/** Optimistic-concurrency token of leader/ISR/state changes. */
export const partitionVersionIs = (version: number): Condition => ({
  description: `partition version is ${version}`,
  expr: '#version = :expectedVersion',
  names: { '#version': 'version' },
  values: { ':expectedVersion': version },
});

/** The fencing token: the epoch a write was issued under is still current. */
export const leaderEpochIs = (leaderEpoch: number): Condition => ({
  description: `leader epoch is ${leaderEpoch}`,
  expr: '#leaderEpoch = :expectedLeaderEpoch',
  names: { '#leaderEpoch': 'leaderEpoch' },
  values: { ':expectedLeaderEpoch': leaderEpoch },
});

export const leaderIs = (leader: BrokerId): Condition => ({
  description: `leader is ${leader}`,
  expr: '#leader = :expectedLeader',
  names: { '#leader': 'leader' },
  values: { ':expectedLeader': leader },
});

/** Keeps the high watermark monotonic even when two advances race. */
export const highWatermarkBelow = (hw: number): Condition => ({
  description: `high watermark below ${hw}`,
  expr: '#highWatermark < :newHighWatermark',
  names: { '#highWatermark': 'highWatermark' },
  values: { ':newHighWatermark': hw },
});

/** ISR admission: the HW has not moved past the log end the joining replica reached. */
export const highWatermarkAtMost = (hw: number): Condition => ({
  description: `high watermark at most ${hw}`,
  expr: '#highWatermark <= :highWatermarkLimit',
  names: { '#highWatermark': 'highWatermark' },
  values: { ':highWatermarkLimit': hw },
});

/** An in-sync replica always holds every record below the HW: cutting its log below it would lose committed records. */
export const notInSyncBelowHighWatermark = (replica: BrokerId, truncateTo: number): Condition => ({
  description: `${replica} is not an in-sync replica, or the high watermark is at most ${truncateTo}`,
  expr: '(NOT contains(#isr, :truncatedReplica)) OR #highWatermark <= :truncateTo',
  names: { '#isr': 'isr', '#highWatermark': 'highWatermark' },
  values: { ':truncatedReplica': replica, ':truncateTo': truncateTo },
});

/** The follower's log was checked against the leader's in this epoch: it is a prefix of the leader's. */
export const matchedInEpoch = (leaderEpoch: number): Condition => ({
  description: `replica matched in leader epoch ${leaderEpoch}`,
  expr: '#matchedEpoch = :matchedEpoch',
  names: { '#matchedEpoch': 'matchedEpoch' },
  values: { ':matchedEpoch': leaderEpoch },
});

/** Nobody has matched the follower in this epoch yet: a second, stale comparison must not cut a matched log. */
export const notMatchedInEpoch = (leaderEpoch: number): Condition => ({
  description: `replica not yet matched in leader epoch ${leaderEpoch}`,
  expr: '#matchedEpoch < :matchingEpoch',
  names: { '#matchedEpoch': 'matchedEpoch' },
  values: { ':matchingEpoch': leaderEpoch },
});

/** A replica's log end offset is where the writer believes it is (no lost or doubled append). */
export const logEndOffsetIs = (logEndOffset: number): Condition => ({
  description: `log end offset is ${logEndOffset}`,
  expr: '#logEndOffset = :expectedLogEndOffset',
  names: { '#logEndOffset': 'logEndOffset' },
  values: { ':expectedLogEndOffset': logEndOffset },
});

/** The replica's log is written in this generation (domain/generations.ts; an item without one is in generation 0). */
export const generationIs = (generation: number): Condition =>
  generation === 0
    ? {
        description: 'replica in generation 0',
        expr: 'attribute_not_exists(#generation) OR #generation = :expectedGeneration',
        names: { '#generation': 'generation' },
        values: { ':expectedGeneration': 0 },
      }
    : {
        description: `replica in generation ${generation}`,
        expr: '#generation = :expectedGeneration',
        names: { '#generation': 'generation' },
        values: { ':expectedGeneration': generation },
      };

/** No write of a later leader epoch reached the replica: a record of an older epoch may not follow one of a newer. */
export const appendEpochAtMost = (leaderEpoch: number): Condition => ({
  description: `no write of an epoch after ${leaderEpoch} reached the replica`,
  expr: 'attribute_not_exists(#appendEpoch) OR #appendEpoch <= :writeEpoch',
  names: { '#appendEpoch': 'appendEpoch' },
  values: { ':writeEpoch': leaderEpoch },
});

// ---- consumer groups (metadata table) ----------------------------------------

/** The group item's optimistic-concurrency token: the version the coordinator's decision read. */
export const groupVersionIs = (version: number): Condition => ({
  description: `group version is ${version}`,
  expr: '#groupVersion = :expectedGroupVersion',
  names: { '#groupVersion': 'version' },
  values: { ':expectedGroupVersion': version },
});

/**
 * A member's offset commit: the group is at its generation, still holds it, and is not completing
 * a rebalance (a member of the ending generation may commit what it processed before rejoining).
 */
export const groupHoldsMember = (generationId: number, memberId: string): Condition => ({
  description: `group at generation ${generationId} holding member ${memberId}, Stable or PreparingRebalance`,
  expr: '#generationId = :memberGeneration AND contains(#memberIds, :committingMember) AND #groupState IN (:stableState, :preparingState)',
  names: { '#generationId': 'generationId', '#memberIds': 'memberIds', '#groupState': 'state' },
  values: { ':memberGeneration': generationId, ':committingMember': memberId, ':stableState': 'Stable', ':preparingState': 'PreparingRebalance' },
});

// ---- composition -----------------------------------------------------------

export const allOf = (...conditions: Condition[]): Condition => ({
  description: conditions.map((c) => c.description).join(' and '),
  expr: conditions.map((c) => `(${c.expr})`).join(' AND '),
  names: Object.fromEntries(conditions.flatMap((c) => Object.entries(c.names))),
  values: Object.fromEntries(conditions.flatMap((c) => Object.entries(c.values))),
});

/** The `ConditionExpression` + placeholders of a write guarded by `condition`. */
export const guardedBy = (condition: Condition): ExpressionParts & { ConditionExpression: string } => ({
  ConditionExpression: condition.expr,
  ...placeholders(condition.names, condition.values),
});

/** An `UpdateExpression` that SETs each attribute; placeholders are prefixed so they never clash with a condition's. */
/** Sets the attributes; one given as `undefined` is removed instead (a sparse index key that no longer applies). */
export const setAttributes = (
  attributes: Record<string, NativeAttributeValue>,
): ExpressionParts & { UpdateExpression: string } => {
  const entries = Object.entries(attributes);
  const set = entries.filter(([, value]) => value !== undefined);
  const removed = entries.filter(([, value]) => value === undefined);
  const clauses = [`SET ${set.map(([name]) => `#set_${name} = :set_${name}`).join(', ')}`];
  if (removed.length > 0) clauses.push(`REMOVE ${removed.map(([name]) => `#set_${name}`).join(', ')}`);
  return {
    UpdateExpression: clauses.join(' '),
    ...placeholders(
      Object.fromEntries(entries.map(([name]) => [`#set_${name}`, name])),
      Object.fromEntries(set.map(([name, value]) => [`:set_${name}`, value])),
    ),
  };
};

/** An update guarded by a condition: both expressions with their placeholders merged. */
export const guardedUpdate = (
  attributes: Record<string, NativeAttributeValue>,
  condition: Condition,
): ExpressionParts & { UpdateExpression: string; ConditionExpression: string } => {
  const update = setAttributes(attributes);
  const guard = guardedBy(condition);
  return {
    UpdateExpression: update.UpdateExpression,
    ConditionExpression: guard.ConditionExpression,
    ...placeholders(
      { ...update.ExpressionAttributeNames, ...guard.ExpressionAttributeNames },
      { ...update.ExpressionAttributeValues, ...guard.ExpressionAttributeValues },
    ),
  };
};

/** DynamoDB rejects an empty ExpressionAttributeValues map, so it is left out when empty. */
const placeholders = (
  names: Record<string, string>,
  values: Record<string, NativeAttributeValue>,
): ExpressionParts => ({
  ExpressionAttributeNames: names,
  ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
});
