/**
 * Item <-> domain codecs for all three tables. Reads validate every field, so a
 * malformed item (hand edit, older schema) fails loudly with the field's name
 * instead of leaking `undefined` into leadership decisions. Used for SDK reads
 * and for stream images alike.
 */
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import type {
  BatchBounds,
  BrokerCredential,
  BrokerHeartbeat,
  LogRecord,
  PartitionChange,
  PartitionMetadata,
  ProducerStamp,
  ProducerStates,
  ReplicaState,
  GenerationStart,
  StoredBatchRef,
  TopicConfig,
} from '../../domain/model.js';
import type { ErrorName } from '../../../protocol/errors.js';
import { COMPRESSION_TYPES, LEADERSHIP_REASONS, PARTITION_STATES, STORAGE_MODES } from '../../domain/model.js';
import { MAX_RECORDS_PER_WRITE } from '../../domain/limits.js';
import type { CommittedOffset, Group, GroupMember, PendingMember, RebalanceBarrier } from '../../domain/group-model.js';
import { GROUP_STATES } from '../../domain/group-model.js';
import { LEADER_INDEX, brokerCredentialKey, groupKey, groupOffsetKey, logKey, partitionKey, replicaStateKey, topicKey } from './keys.js';
import { RecordBatchFormatError, decodeRecordBatch, encodeRecordBatch, type BatchCompression, type StoredRecord } from './record-batch-codec.js';

export type Item = Record<string, NativeAttributeValue>;

/** A stored item does not have the shape this code writes. */
export class MalformedItemError extends Error {
  override readonly name: ErrorName = 'MalformedItemError';
}

type Fields = Record<string, unknown>;

const fail = (field: string, expected: string, value: unknown): never => {
  throw new MalformedItemError(`item field "${field}" should be ${expected}, got ${JSON.stringify(value)}`);
};

const asFields = (value: unknown, field: string): Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : fail(field, 'a map', value);

const str = (item: Fields, field: string): string => {
  const value = item[field];
  return typeof value === 'string' ? value : fail(field, 'a string', value);
};

export const num = (item: Fields, field: string): number => {
  const value = item[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : fail(field, 'a number', value);
};

const bool = (item: Fields, field: string): boolean => {
  const value = item[field];
  return typeof value === 'boolean' ? value : fail(field, 'a boolean', value);
};

/** Absent and NULL both read as null: DocumentClient stores null as NULL, removeUndefinedValues drops undefined. */
const strOrNull = (item: Fields, field: string): string | null => (item[field] == null ? null : str(item, field));

const numOrNull = (item: Fields, field: string): number | null => (item[field] == null ? null : num(item, field));

const strList = (item: Fields, field: string): string[] => {
  const value = item[field];
  return Array.isArray(value) && value.every((v): v is string => typeof v === 'string')
    ? value
    : fail(field, 'a list of strings', value);
};

const oneOf = <T extends string>(item: Fields, field: string, allowed: readonly T[]): T => {
  const value = str(item, field);
  return (allowed as readonly string[]).includes(value) ? (value as T) : fail(field, allowed.join('|'), value);
};

const LOG_COPIES: readonly LogRecord['copy'][] = ['leader', 'follower'];

// ---- heartbeat table -------------------------------------------------------

/** The heartbeat item is the BrokerHeartbeat itself; `brokerId` is the key, `expiresAt` the TTL attribute. */
export const heartbeatItem = (hb: BrokerHeartbeat): Item => ({
  brokerId: hb.brokerId,
  incarnation: hb.incarnation,
  lastHeartbeatAt: hb.lastHeartbeatAt,
  deadlineMs: hb.deadlineMs,
  expiresAt: hb.expiresAt,
  ...(hb.shuttingDown ? { shuttingDown: true } : {}),
  ...(hb.shuttingDown && hb.shutdownDeadlineMs !== undefined ? { shutdownDeadlineMs: hb.shutdownDeadlineMs } : {}),
});

/** Only ever written as true; absent means not shutting down. */
const shuttingDownFromItem = (item: Fields): { shuttingDown?: true; shutdownDeadlineMs?: number } => {
  if (item.shuttingDown == null) return {};
  if (item.shuttingDown !== true) fail('shuttingDown', 'true or absent', item.shuttingDown);
  // A mark written before marks had deadlines has none.
  return item.shutdownDeadlineMs == null ? { shuttingDown: true } : { shuttingDown: true, shutdownDeadlineMs: num(item, 'shutdownDeadlineMs') };
};

export const heartbeatFromItem = (item: Fields): BrokerHeartbeat => ({
  brokerId: str(item, 'brokerId'),
  incarnation: num(item, 'incarnation'),
  lastHeartbeatAt: num(item, 'lastHeartbeatAt'),
  deadlineMs: num(item, 'deadlineMs'),
  expiresAt: num(item, 'expiresAt'),
  ...shuttingDownFromItem(item),
});

// ---- metadata table --------------------------------------------------------

export const topicItem = (config: TopicConfig): Item => ({ ...topicKey(config.topic), ...config });

export const topicFromItem = (item: Fields): TopicConfig => ({
  topic: str(item, 'topic'),
  partitions: num(item, 'partitions'),
  replicationFactor: num(item, 'replicationFactor'),
  minInsyncReplicas: num(item, 'minInsyncReplicas'),
  uncleanLeaderElection: bool(item, 'uncleanLeaderElection'),
  // Topics created before compression.type was a setting have none: Kafka's default.
  compressionType: item.compressionType == null ? 'producer' : oneOf(item, 'compressionType', COMPRESSION_TYPES),
  // Topics created before the storage mode was a setting keep their records in the log items.
  storage: item.storage == null ? 'replicated' : oneOf(item, 'storage', STORAGE_MODES),
  createdAt: num(item, 'createdAt'),
});

export const partitionItem = (p: PartitionMetadata): Item => ({
  ...partitionKey(p.topic, p.partition),
  ...p,
  ...(p.leader === null ? {} : { [LEADER_INDEX.keyAttribute]: p.leader }),
});

const changeFromFields = (change: Fields): PartitionChange => ({
  reason: oneOf(change, 'reason', LEADERSHIP_REASONS),
  previousLeader: strOrNull(change, 'previousLeader'),
  causeBrokerId: strOrNull(change, 'causeBrokerId'),
  causeIncarnation: numOrNull(change, 'causeIncarnation'),
  unclean: bool(change, 'unclean'),
  at: num(change, 'at'),
});

export const partitionFromItem = (item: Fields): PartitionMetadata => ({
  topic: str(item, 'topic'),
  partition: num(item, 'partition'),
  replicas: strList(item, 'replicas'),
  leader: strOrNull(item, 'leader'),
  leaderEpoch: num(item, 'leaderEpoch'),
  isr: strList(item, 'isr'),
  // Items written before eligible leader replicas have neither list: both empty.
  elr: item.elr == null ? [] : strList(item, 'elr'),
  lastKnownElr: item.lastKnownElr == null ? [] : strList(item, 'lastKnownElr'),
  state: oneOf(item, 'state', PARTITION_STATES),
  highWatermark: num(item, 'highWatermark'),
  version: num(item, 'version'),
  lastChange: changeFromFields(asFields(item['lastChange'], 'lastChange')),
});

export const replicaStateItem = (r: ReplicaState): Item => ({
  ...replicaStateKey(r.topic, r.partition, r.brokerId),
  ...r,
});

const producersFromItem = (item: Fields): { producers?: ProducerStates } => {
  if (item.producers == null) return {};
  const producers: ProducerStates = {};
  for (const [producerId, value] of Object.entries(asFields(item.producers, 'producers'))) {
    const state = asFields(value, `producers.${producerId}`);
    const runs = state.runs;
    if (!Array.isArray(runs)) fail(`producers.${producerId}.runs`, 'a list', runs);
    const producerEpoch = num(state, 'producerEpoch');
    const lastAppendedAt = num(state, 'lastAppendedAt');
    producers[producerId] = {
      producerEpoch,
      lastAppendedAt,
      runs: (runs as unknown[]).map((run, i) => {
        const fields = asFields(run, `producers.${producerId}.runs[${i}]`);
        // Runs written before they carried their epoch and time were all of the producer's one epoch.
        return {
          producerEpoch: fields.producerEpoch == null ? producerEpoch : num(fields, 'producerEpoch'),
          firstSequence: num(fields, 'firstSequence'),
          firstOffset: num(fields, 'firstOffset'),
          count: num(fields, 'count'),
          lastAppendedAt: fields.lastAppendedAt == null ? lastAppendedAt : num(fields, 'lastAppendedAt'),
        };
      }),
    };
  }
  return { producers };
};

export const replicaStateFromItem = (item: Fields): ReplicaState => ({
  topic: str(item, 'topic'),
  partition: num(item, 'partition'),
  brokerId: str(item, 'brokerId'),
  logEndOffset: num(item, 'logEndOffset'),
  matchedEpoch: num(item, 'matchedEpoch'),
  updatedAt: num(item, 'updatedAt'),
  ...(item.appendEpoch == null ? {} : { appendEpoch: num(item, 'appendEpoch') }),
  ...(item.generation == null ? {} : { generation: num(item, 'generation') }),
  ...(item.generations == null ? {} : { generations: generationsFromItem(item.generations) }),
  ...producersFromItem(item),
});

const generationsFromItem = (stored: unknown): GenerationStart[] => {
  if (!Array.isArray(stored)) return fail('generations', 'a list', stored);
  return stored.map((entry, i) => {
    const fields = asFields(entry, `generations[${i}]`);
    return { from: num(fields, 'from'), generation: num(fields, 'generation') };
  });
};

/** Salt and hash are 32 bytes each, in canonical base64. */
const CREDENTIAL_DIGEST_BYTES = 32;

const base64Bytes = (item: Fields, field: string, bytes: number): string => {
  const value = str(item, field);
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === value ? value : fail(field, `${bytes} bytes in base64`, value);
};

export const brokerCredentialItem = (credential: BrokerCredential): Item => ({
  ...brokerCredentialKey(credential.brokerId),
  ...credential,
});

/** Also checks that the item sits under its own broker's key: a copied row must not authenticate another broker. */
export const brokerCredentialFromItem = (item: Fields): BrokerCredential => {
  const brokerId = str(item, 'brokerId');
  const key = brokerCredentialKey(brokerId);
  if (item.pk !== key.pk || item.sk !== key.sk) fail('pk', `"${key.pk}" (the key of broker ${brokerId}'s credential)`, item.pk);
  return {
    brokerId,
    salt: base64Bytes(item, 'salt', CREDENTIAL_DIGEST_BYTES),
    hash: base64Bytes(item, 'hash', CREDENTIAL_DIGEST_BYTES),
    registeredAt: num(item, 'registeredAt'),
  };
};

// ---- log table -------------------------------------------------------------

/**
 * Most records one log item holds: an append is at most this many (one transaction),
 * and items are only ever cut shorter.
 */
export const MAX_RECORDS_PER_LOG_ITEM = MAX_RECORDS_PER_WRITE;

/**
 * A record batch, as Kafka stores them: consecutive records of one replica in one item,
 * keyed by the first offset (`offset`), so an append of n records costs one item write
 * instead of n. The key attribute is named `replica` (the composite
 * `<topic>#<partition>#<brokerId>`), so the broker id is stored as `brokerId`. Every
 * record of an item has the same `copy`; leader epoch, time, producer stamp and batch
 * bounds are per record, because a follower's copy may span several of the leader's
 * appends, and a leader append larger than one item's bytes spans several items.
 *
 * The records are one Binary attribute, `data` (record-batch-codec.ts), gzip-compressed
 * when the topic's compression.type asks for it; what queries, the log stream's filter
 * (`copy`) and its readers need stays plain. Items written before that hold the records
 * as a list of maps, `records`, and are still read.
 */
export const logBatchItem = (records: readonly LogRecord[], compression: BatchCompression = 'none', generation = 0, writtenAt?: number): Item => {
  if (records.length > MAX_RECORDS_PER_LOG_ITEM) throw new Error(`A log item holds at most ${MAX_RECORDS_PER_LOG_ITEM} records, got ${records.length}.`);
  const first = records[0];
  return { ...logItemHead(records, generation, writtenAt, 'A log item holds consecutive records of one replica'), data: encodeRecordBatch(records, first.offset, compression) };
};

/**
 * The attributes every log item has (key, time, topic, partition, broker, copy, last
 * offset), once its records are checked to be consecutive records of one replica, of one
 * stored batch too when they have one (`holds` says what the item holds, for the error).
 */
function logItemHead(records: readonly LogRecord[], generation: number, writtenAt: number | undefined, holds: string): Item {
  const first = records[0];
  if (!first) throw new Error('A log item holds at least one record.');
  records.forEach((r, i) => {
    const follows =
      r.topic === first.topic &&
      r.partition === first.partition &&
      r.replica === first.replica &&
      r.copy === first.copy &&
      r.writerCopies === first.writerCopies &&
      r.offset === first.offset + i;
    if (!follows || !sameRef(r.stored, first.stored)) throw new Error(`${holds}; record ${i} (offset ${r.offset}) does not follow.`);
  });
  return {
    ...logKey(first.topic, first.partition, first.replica, first.offset, generation),
    ...(writtenAt === undefined ? {} : { writtenAt }),
    topic: first.topic,
    partition: first.partition,
    brokerId: first.replica,
    copy: first.copy,
    lastOffset: first.offset + records.length - 1,
    // Plain, for the log stream's filter: the replicate function is not invoked for a batch its writer copies.
    ...(first.writerCopies ? { writerCopies: true } : {}),
  };
}

const producerStampFromItem = (item: Fields, field: string): { producer?: ProducerStamp } => {
  if (item.producer == null) return {};
  const stamp = asFields(item.producer, field);
  return { producer: { producerId: num(stamp, 'producerId'), producerEpoch: num(stamp, 'producerEpoch'), sequence: num(stamp, 'sequence') } };
};

/**
 * A record's batch bounds, which must hold the record. Items written before batches were
 * recorded have none: the domain then counts each record as a batch of its own.
 */
const batchFromItem = (item: Fields, field: string, offset: number): { batch?: BatchBounds } => {
  if (item.batch == null) return {};
  const bounds = asFields(item.batch, field);
  const baseOffset = num(bounds, 'baseOffset');
  const lastOffset = num(bounds, 'lastOffset');
  if (baseOffset > offset || lastOffset < offset) return fail(field, `bounds holding offset ${offset}`, item.batch);
  return { batch: { baseOffset, lastOffset } };
};

/** Stored records of an item in the list-of-maps layout that preceded `data`. */
const legacyRecordsFromItem = (stored: unknown, baseOffset: number): StoredRecord[] => {
  if (!Array.isArray(stored) || stored.length === 0) return fail('records', 'a non-empty list', stored);
  return stored.map((value, i): StoredRecord => {
    const fields = asFields(value, `records[${i}]`);
    return {
      leaderEpoch: num(fields, 'leaderEpoch'),
      key: strOrNull(fields, 'key'),
      value: str(fields, 'value'),
      appendedAt: num(fields, 'appendedAt'),
      ...producerStampFromItem(fields, `records[${i}].producer`),
      ...batchFromItem(fields, `records[${i}].batch`, baseOffset + i),
    };
  });
};

const encodedRecordsFromItem = (data: unknown, baseOffset: number): StoredRecord[] => {
  if (!(data instanceof Uint8Array)) return fail('data', 'a binary', typeof data);
  try {
    return decodeRecordBatch(data, baseOffset);
  } catch (error) {
    if (!(error instanceof RecordBatchFormatError)) throw error;
    throw new MalformedItemError(`item field "data" is not a stored record batch: it ${error.message}`);
  }
};

const sameRef = (a: StoredBatchRef | undefined, b: StoredBatchRef | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.object === b.object && a.start === b.start && a.length === b.length);

/**
 * A diskless topic's log item: where its records' batch lies in an object
 * (`stored`: object key, start, length), not the records. The item names the offsets
 * it holds (`offset` to `lastOffset`), which may be part of the stored batch: a follower's
 * copy may begin or end inside one of the leader's batches. Each record's fields but the
 * replica and copy come from the object; with no bytes of records, one such item is
 * about 200 bytes: a write unit, whatever the batch's size.
 */
export const logRefItem = (records: readonly LogRecord[], generation = 0, writtenAt?: number): Item => {
  const stored = records[0]?.stored;
  if (!stored) throw new Error('A reference log item holds at least one record, stored in an object.');
  const head = logItemHead(records, generation, writtenAt, 'A reference log item holds consecutive records of one replica from one stored batch');
  return { ...head, stored: { object: stored.object, start: stored.start, length: stored.length } };
};

/** The stored batch a diskless item points into, or undefined for an item that holds its records. */
export const storedRefOfItem = (item: Fields): StoredBatchRef | undefined => {
  if (item.stored == null) return undefined;
  const ref = asFields(item.stored, 'stored');
  return { object: str(ref, 'object'), start: num(ref, 'start'), length: num(ref, 'length') };
};

/** The offsets an item holds (either kind), without decoding its records. */
export const logItemRange = (item: Fields): { baseOffset: number; lastOffset: number } => {
  const baseOffset = num(item, 'offset');
  const lastOffset = num(item, 'lastOffset');
  return lastOffset >= baseOffset ? { baseOffset, lastOffset } : fail('lastOffset', `at least offset ${baseOffset}`, lastOffset);
};

/**
 * The records of a diskless item, from its stored batch's records (ObjectStore.read): the
 * item's offsets of them, as this item's replica and copy, each carrying the reference.
 */
export const logRecordsFromRefItem = (item: Fields, batch: readonly LogRecord[]): LogRecord[] => {
  const ref = storedRefOfItem(item);
  if (!ref) return fail('stored', 'a stored batch reference', item.stored);
  const { baseOffset, lastOffset } = logItemRange(item);
  const topic = str(item, 'topic');
  const partition = num(item, 'partition');
  const held = batch.filter((record) => record.offset >= baseOffset && record.offset <= lastOffset);
  if (held.length !== lastOffset - baseOffset + 1 || batch.some((record) => record.topic !== topic || record.partition !== partition)) {
    throw new MalformedItemError(
      `log item ${topic}-${partition} offsets ${baseOffset}..${lastOffset} points into ${ref.object} bytes ${ref.start}+${ref.length}, which holds ${batch[0]?.topic}-${batch[0]?.partition} offsets ${batch[0]?.offset}..${batch.at(-1)?.offset}`,
    );
  }
  const replica = str(item, 'brokerId');
  const copy = oneOf(item, 'copy', LOG_COPIES);
  // The object's records are the leader's as appended: a follower's item says what it holds.
  return held.map(({ writerCopies: _, ...record }) => ({ ...record, replica, copy, stored: { ...ref }, ...writerMarkOf(item) }));
};

/** The records of one log item, in offset order, from either layout. */
export const logRecordsFromItem = (item: Fields): LogRecord[] => {
  if (item.stored != null && item.data == null) {
    throw new MalformedItemError(`log item at offset ${JSON.stringify(item.offset)} holds a diskless batch reference ("stored"), not records: its records are read through the object store.`);
  }
  const topic = str(item, 'topic');
  const partition = num(item, 'partition');
  const replica = str(item, 'brokerId');
  const baseOffset = num(item, 'offset');
  const copy = oneOf(item, 'copy', LOG_COPIES);
  const stored = item.data == null ? legacyRecordsFromItem(item.records, baseOffset) : encodedRecordsFromItem(item.data, baseOffset);
  if (num(item, 'lastOffset') !== baseOffset + stored.length - 1) {
    return fail('lastOffset', `${baseOffset + stored.length - 1} (offset + records - 1)`, item.lastOffset);
  }
  return stored.map((record, i): LogRecord => ({ topic, partition, replica, offset: baseOffset + i, copy, ...record, ...writerMarkOf(item) }));
};

const writerMarkOf = (item: Fields): Pick<LogRecord, 'writerCopies'> => {
  if (item.writerCopies == null) return {};
  return item.writerCopies === true ? { writerCopies: true } : fail('writerCopies', 'true', item.writerCopies);
};

// ---- consumer groups (metadata table) ----------------------------------------

/**
 * The group as the domain keeps it, plus `memberIds` (the member ids as a list): the attribute
 * the member-commit condition tests with `contains` (conditions.ts groupHoldsMember). A list, not
 * a string set, because a group without members would need an empty set, which DynamoDB refuses.
 */
export const groupItem = (group: Group): Item => ({
  ...groupKey(group.groupId),
  ...group,
  memberIds: group.members.map((member) => member.memberId),
});

const listOf = <T>(item: Fields, field: string, read: (fields: Fields, at: string) => T): T[] => {
  const value = item[field];
  return Array.isArray(value) ? value.map((entry, i) => read(asFields(entry, `${field}[${i}]`), `${field}[${i}]`)) : fail(field, 'a list', value);
};

const memberFromFields = (member: Fields): GroupMember => ({
  memberId: str(member, 'memberId'),
  groupInstanceId: strOrNull(member, 'groupInstanceId'),
  clientId: str(member, 'clientId'),
  protocols: listOf(member, 'protocols', (protocol) => ({ name: str(protocol, 'name'), metadata: str(protocol, 'metadata') })),
  sessionTimeoutMs: num(member, 'sessionTimeoutMs'),
  rebalanceTimeoutMs: num(member, 'rebalanceTimeoutMs'),
  sessionDeadlineMs: num(member, 'sessionDeadlineMs'),
  joined: bool(member, 'joined'),
  assignment: strOrNull(member, 'assignment'),
});

const pendingFromFields = (pending: Fields): PendingMember => ({ memberId: str(pending, 'memberId'), deadlineMs: num(pending, 'deadlineMs') });

const rebalanceFromItem = (item: Fields): RebalanceBarrier | null => {
  if (item.rebalance == null) return null;
  const barrier = asFields(item.rebalance, 'rebalance');
  return { startedAt: num(barrier, 'startedAt'), notBeforeMs: num(barrier, 'notBeforeMs'), deadlineMs: num(barrier, 'deadlineMs') };
};

export const groupFromItem = (item: Fields): Group => ({
  groupId: str(item, 'groupId'),
  version: num(item, 'version'),
  incarnation: num(item, 'incarnation'),
  nextMemberNumber: num(item, 'nextMemberNumber'),
  state: oneOf(item, 'state', GROUP_STATES),
  stateSince: num(item, 'stateSince'),
  generationId: num(item, 'generationId'),
  protocolType: strOrNull(item, 'protocolType'),
  protocolName: strOrNull(item, 'protocolName'),
  leader: strOrNull(item, 'leader'),
  members: listOf(item, 'members', memberFromFields),
  pending: listOf(item, 'pending', pendingFromFields),
  rebalance: rebalanceFromItem(item),
});

export const groupOffsetItem = (offset: CommittedOffset): Item => ({ ...groupOffsetKey(offset.groupId, offset.topic, offset.partition), ...offset });

export const groupOffsetFromItem = (item: Fields): CommittedOffset => ({
  groupId: str(item, 'groupId'),
  topic: str(item, 'topic'),
  partition: num(item, 'partition'),
  offset: num(item, 'offset'),
  committedLeaderEpoch: num(item, 'committedLeaderEpoch'),
  metadata: str(item, 'metadata'),
  committedAt: num(item, 'committedAt'),
});
