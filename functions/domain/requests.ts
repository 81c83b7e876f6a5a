/**
 * Parsers for every use case's input. They need no I/O, so a handler can refuse
 * a bad request before touching a table; the use cases call them first too, so
 * nothing is ever written on bad input. Each reads the fields of its request type in
 * protocol/messages.ts and returns that type, with defaults filled in where the
 * protocol makes a field optional.
 */
import type * as wire from '../../protocol/messages.js';
import { GROUP_STATES } from '../../protocol/messages.js';
import { COMPRESSION_TYPES, STORAGE_MODES, type CompressionType, type StorageMode } from './model.js';
import { BrokerAuthenticationError, ValidationError } from './errors.js';
import type { IdempotentBatch } from './idempotence.js';
import type { BrokerId } from './model.js';
import {
  DEFAULT_RECORDS_PER_CONSUME,
  MAX_PARTITIONS,
  MAX_PRODUCER_EPOCH,
  MAX_RECORD_BYTES,
  MAX_BYTES_PER_CONSUME,
  DEFAULT_BYTES_PER_CONSUME,
  MAX_BYTES_PER_FETCH,
  MAX_FETCH_WAIT_MS,
  MAX_PARTITIONS_PER_FETCH,
  MAX_SEQUENCE,
  MAX_RECORDS_PER_CONSUME,
  MAX_RECORDS_PER_PRODUCE,
  MAX_BATCHES_PER_PRODUCE,
  DEFAULT_GROUP_REBALANCE_TIMEOUT_MS,
  DEFAULT_GROUP_SESSION_TIMEOUT_MS,
  MAX_GROUP_METADATA_BYTES,
  MAX_GROUP_PROTOCOLS,
  MAX_GROUP_TIMEOUT_MS,
  MAX_OFFSET_METADATA_BYTES,
  MAX_OFFSETS_PER_COMMIT,
  MAX_GROUPS_PER_DESCRIBE,
} from './limits.js';
import {
  expectArray,
  expectBoolean,
  expectInteger,
  expectObject,
  expectRequest,
  expectString,
  invalid,
  optional,
  type Fields,
  type RequestFields,
  type StringRule,
} from './validation.js';

/** Kafka's legal topic characters; '#' is excluded, which also keeps it free as a key separator. */
const TOPIC_NAME: StringRule = {
  pattern: /^[a-zA-Z0-9._-]{1,249}$/,
  description: "1 to 249 characters of a-z, A-Z, 0-9, '.', '_' or '-'",
};

/** Broker ids end up inside table keys next to topic names, so they get the same alphabet. */
const BROKER_ID: StringRule = {
  pattern: /^[a-zA-Z0-9._-]{1,64}$/,
  description: "1 to 64 characters of a-z, A-Z, 0-9, '.', '_' or '-'",
};

const POSITIVE = { min: 1 };
const NON_NEGATIVE = { min: 0 };

function expectTopicName(value: unknown): string {
  const topic = expectString(value, 'topic', TOPIC_NAME);
  // Kafka reserves these two: they would be ambiguous as directory names.
  if (topic === '.' || topic === '..') throw invalid('topic', 'a name other than "." or ".."', topic);
  return topic;
}

/** Partitions are numbered from 1; whether the topic has that many is checked once the topic is read. */
const expectPartitionNumber = (value: unknown): number => expectInteger(value, 'partition', { min: 1, max: MAX_PARTITIONS });

const epochIn = (field: string) => (value: unknown): number => expectInteger(value, field, NON_NEGATIVE);

/**
 * KIP-320's currentLeaderEpoch, also accepted under its older name `leaderEpoch`;
 * both given must agree. Each is checked under its own name.
 */
function expectCurrentLeaderEpoch(fields: Fields): number | undefined {
  const current = optional(fields.currentLeaderEpoch, epochIn('currentLeaderEpoch'));
  const alias = optional(fields.leaderEpoch, epochIn('leaderEpoch'));
  if (current !== undefined && alias !== undefined && current !== alias) {
    throw new ValidationError(
      `"currentLeaderEpoch" (${current}) and its alias "leaderEpoch" (${alias}) disagree; send one of them`,
    );
  }
  return current ?? alias;
}

/** Shortest and longest credential: a generated one is 32 random bytes in base64url (43 characters). */
export const CREDENTIAL_LENGTH = { min: 43, max: 256 } as const;

const CREDENTIAL_ALPHABET = /^[A-Za-z0-9+/=_-]*$/;
const CREDENTIAL_RULE =
  `a string of ${CREDENTIAL_LENGTH.min} to ${CREDENTIAL_LENGTH.max} characters of A-Z, a-z, 0-9, '+', '/', '=', '_' or '-' ` +
  '(e.g. 32 random bytes in base64)';

/** A credential's shape; the message never shows the value, which may be a real credential mistyped. */
function expectCredentialShape(value: unknown, field: string): string {
  const fits =
    typeof value === 'string' &&
    value.length >= CREDENTIAL_LENGTH.min &&
    value.length <= CREDENTIAL_LENGTH.max &&
    CREDENTIAL_ALPHABET.test(value);
  if (fits) return value;
  const got = typeof value === 'string' ? `a string of ${value.length} characters (not shown)` : `a ${value === null ? 'null' : typeof value}`;
  throw new ValidationError(`"${field}" must be ${CREDENTIAL_RULE}, got ${got}`);
}

/** A broker's own request proves who it is: without a credential it is refused as unauthenticated, not as malformed. */
function expectBrokerCredential(value: unknown, brokerId: BrokerId): string {
  if (value === undefined || value === null) {
    throw new BrokerAuthenticationError(
      `broker "${brokerId}": the request carries no "credential"; a broker authenticates with the credential ` +
        'RegisterBroker gave it (npm run cli -- brokers register --broker ID)',
    );
  }
  return expectCredentialShape(value, 'credential');
}

export type HeartbeatRequest = wire.HeartbeatRequest;

export function parseHeartbeatRequest(input: unknown): HeartbeatRequest {
  const fields = expectRequest<HeartbeatRequest>(input);
  const brokerId = expectString(fields.brokerId, 'brokerId', BROKER_ID);
  return {
    brokerId,
    incarnation: optional(fields.incarnation, (v) => expectInteger(v, 'incarnation', POSITIVE)),
    credential: expectBrokerCredential(fields.credential, brokerId),
  };
}

export type RegisterBrokerRequest = wire.RegisterBrokerRequest;

export function parseRegisterBrokerRequest(input: unknown): RegisterBrokerRequest {
  const fields = expectRequest<RegisterBrokerRequest>(input);
  return {
    brokerId: expectString(fields.brokerId, 'brokerId', BROKER_ID),
    credential: optional(fields.credential, (v) => expectCredentialShape(v, 'credential')),
  };
}

/** With min.insync.replicas and unclean election defaulted. */
export type CreateTopicRequest = Required<wire.CreateTopicRequest>;

export function parseCreateTopicRequest(input: unknown): CreateTopicRequest {
  const fields = expectRequest<wire.CreateTopicRequest>(input);
  const replicationFactor = expectInteger(fields.replicationFactor, 'replicationFactor', POSITIVE);
  return {
    topic: expectTopicName(fields.topic),
    partitions: expectInteger(fields.partitions, 'partitions', { min: 1, max: MAX_PARTITIONS }),
    replicationFactor,
    minInsyncReplicas:
      optional(fields.minInsyncReplicas, (v) =>
        expectInteger(v, 'minInsyncReplicas', { min: 1, max: replicationFactor }),
      ) ?? 1,
    uncleanLeaderElection: optional(fields.uncleanLeaderElection, (v) => expectBoolean(v, 'uncleanLeaderElection')) ?? false,
    compressionType: optional(fields.compressionType, expectCompressionType) ?? 'producer',
    storage: optional(fields.storage, expectStorageMode) ?? 'replicated',
  };
}

/** Kafka codecs the log cannot apply: the runtime has no codec for them, and none is bundled. */
const UNSUPPORTED_CODECS: readonly string[] = ['snappy', 'lz4', 'zstd'];

function expectCompressionType(value: unknown): CompressionType {
  const supported = COMPRESSION_TYPES.join(', ');
  if (typeof value === 'string' && (COMPRESSION_TYPES as readonly string[]).includes(value)) return value as CompressionType;
  if (typeof value === 'string' && UNSUPPORTED_CODECS.includes(value)) {
    throw invalid('compressionType', `one this log supports (${supported}): Kafka's ${value} has no codec here`, value);
  }
  throw invalid('compressionType', `one of ${supported}`, value);
}

function expectStorageMode(value: unknown): StorageMode {
  if (typeof value === 'string' && (STORAGE_MODES as readonly string[]).includes(value)) return value as StorageMode;
  throw invalid('storage', `one of ${STORAGE_MODES.join(', ')}`, value);
}

/** describe acts on one topic or, without one, on all. */
export type TopicFilterRequest = wire.DescribeRequest;

export function parseTopicFilterRequest(input: unknown): TopicFilterRequest {
  // A bare invoke (no payload) means "everything".
  if (input === undefined || input === null) return {};
  const fields = expectRequest<TopicFilterRequest>(input);
  return { topic: optional(fields.topic, expectTopicName) };
}

export const parseDescribeRequest = parseTopicFilterRequest;

/** Preferred-leader election: every partition, one topic's, or some partitions of one topic. */
export type PreferredLeaderRequest = wire.ElectLeadersRequest;

export function parsePreferredLeaderRequest(input: unknown): PreferredLeaderRequest {
  if (input === undefined || input === null) return {};
  const fields = expectRequest<PreferredLeaderRequest>(input);
  const topic = optional(fields.topic, expectTopicName);
  const partitions = optional(fields.partitions, (v) =>
    expectArray(v, 'partitions', { min: 1, max: MAX_PARTITIONS }).map((p, i) =>
      expectInteger(p, `partitions[${i}]`, { min: 1, max: MAX_PARTITIONS }),
    ),
  );
  if (partitions !== undefined && topic === undefined) {
    throw invalid('topic', 'given when "partitions" is (partition numbers belong to one topic)', undefined);
  }
  return { topic, ...(partitions === undefined ? {} : { partitions: [...new Set(partitions)] }) };
}

export type ControlledShutdownRequest = wire.ControlledShutdownRequest;

export function parseControlledShutdownRequest(input: unknown): ControlledShutdownRequest {
  const fields = expectRequest<ControlledShutdownRequest>(input);
  const brokerId = expectString(fields.brokerId, 'brokerId', BROKER_ID);
  return {
    brokerId,
    incarnation: expectInteger(fields.incarnation, 'incarnation', POSITIVE),
    credential: expectBrokerCredential(fields.credential, brokerId),
  };
}

/** KIP-320's OffsetsForLeaderEpoch for one partition; `leaderEpoch` is the epoch asked about (the wire's offsetsForLeaderEpoch). */
export type OffsetsForLeaderEpochRequest = Omit<wire.OffsetsForLeaderEpochRequest, 'offsetsForLeaderEpoch'> & { leaderEpoch: number };

export function parseOffsetsForLeaderEpochRequest(input: unknown): OffsetsForLeaderEpochRequest {
  const fields = expectRequest<wire.OffsetsForLeaderEpochRequest>(input);
  return {
    topic: expectTopicName(fields.topic),
    partition: expectPartitionNumber(fields.partition),
    leaderEpoch: epochIn('offsetsForLeaderEpoch')(fields.offsetsForLeaderEpoch),
    currentLeaderEpoch: optional(fields.currentLeaderEpoch, epochIn('currentLeaderEpoch')),
  };
}

/** A consume request that asks for an epoch's end offset rather than records. */
export const isOffsetsForLeaderEpochRequest = (input: unknown): boolean =>
  typeof input === 'object' && input !== null && !Array.isArray(input) && 'offsetsForLeaderEpoch' in input;

/** A record with its key made explicit (null: none). */
export type ProducedRecord = Required<wire.ProducedRecord>;

/**
 * 'all' waits until every ISR member has the records (Kafka's acks=all / -1, its
 * default since 3.0); 'leader' acknowledges once the leader wrote them (acks=1);
 * 'none' (acks=0) is acks=1 for the function, but the client does not wait for the
 * answer at all (it invokes asynchronously) and so never learns offsets or errors.
 */
export type Acks = 'all' | 'leader' | 'none';

/** The wire's produce request normalized: its epoch alias resolved, acks named, the idempotence fields together. */
export interface ProduceRequest extends Pick<wire.ProduceRequest, 'topic' | 'partition' | 'currentLeaderEpoch'> {
  records: ProducedRecord[];
  acks: Acks;
  /** Present for an idempotent producer: producerId, producerEpoch and baseSequence, given together. */
  idempotence?: IdempotentBatch;
}

function expectRecord(value: unknown, index: number): ProducedRecord {
  const field = `records[${index}]`;
  const fields: RequestFields<wire.ProducedRecord> = expectObject(value, field);
  const key = optional(fields.key, (v) => expectString(v, `${field}.key`)) ?? null;
  const recordValue = expectString(fields.value, `${field}.value`);
  const bytes = Buffer.byteLength(recordValue) + (key === null ? 0 : Buffer.byteLength(key));
  if (bytes > MAX_RECORD_BYTES) {
    throw new ValidationError(`"${field}" must hold at most ${MAX_RECORD_BYTES} bytes of key and value, got ${bytes}`);
  }
  return { key, value: recordValue };
}

function expectAcks(value: unknown): Acks {
  if (value === 'all' || value === -1) return 'all';
  if (value === 1) return 'leader';
  if (value === 0) return 'none';
  throw invalid('acks', `"all", -1, 1 or 0`, value);
}

const IDEMPOTENCE_FIELDS = ['producerId', 'producerEpoch', 'baseSequence'] as const;

/** The three idempotence fields come together or not at all: a batch without a sequence cannot be deduplicated. */
function expectIdempotence(fields: RequestFields<wire.ProduceRequest>): IdempotentBatch | undefined {
  const given = IDEMPOTENCE_FIELDS.filter((field) => fields[field] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < IDEMPOTENCE_FIELDS.length) {
    const missing = IDEMPOTENCE_FIELDS.filter((field) => !given.includes(field));
    throw new ValidationError(
      `an idempotent produce gives "producerId", "producerEpoch" and "baseSequence" together; missing ${missing.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  return {
    producerId: expectInteger(fields.producerId, 'producerId', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    producerEpoch: expectInteger(fields.producerEpoch, 'producerEpoch', { min: 0, max: MAX_PRODUCER_EPOCH }),
    // An int32, as Kafka's; the batch's later records wrap past MAX_SEQUENCE to 0 (incrementSequence).
    baseSequence: expectInteger(fields.baseSequence, 'baseSequence', { min: 0, max: MAX_SEQUENCE }),
  };
}

export function parseProduceRequest(input: unknown): ProduceRequest {
  const fields = expectRequest<wire.ProduceRequest>(input);
  const records = expectArray(fields.records, 'records', { min: 1, max: MAX_RECORDS_PER_PRODUCE }).map(expectRecord);
  const idempotence = expectIdempotence(fields);
  return {
    topic: expectTopicName(fields.topic),
    partition: expectPartitionNumber(fields.partition),
    records,
    currentLeaderEpoch: expectCurrentLeaderEpoch(fields),
    acks: optional(fields.acks, expectAcks) ?? 'all',
    ...(idempotence ? { idempotence } : {}),
  };
}

/** Whether the input is an object with this field: how a request of several partitions is told from one of one. */
const isRequestWith = (input: unknown, field: string): boolean =>
  typeof input === 'object' && input !== null && !Array.isArray(input) && field in input;

/** A request of several partitions must not carry the fields of a request of one. */
function refuseSingleFields(raw: Fields, singles: readonly string[], message: (single: string) => string): void {
  for (const single of singles) if (raw[single] !== undefined) throw new ValidationError(message(single));
}

/**
 * The entries of a request of several partitions, each parsed by `parse` (its bad input named
 * as `field[i]`), at most one per partition.
 */
function perPartition<T extends { topic: string; partition: number }>(entries: unknown[], field: string, parse: (entry: unknown) => T): T[] {
  const parsed = entries.map((entry, index) => {
    try {
      return parse(entry);
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`${field}[${index}]: ${error.message}`);
      throw error;
    }
  });
  const seen = new Map<string, number>();
  parsed.forEach(({ topic, partition }, index) => {
    const key = `${topic}#${partition}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ValidationError(`${field}[${index}] asks for ${topic}-${partition} again (as ${field}[${earlier}] did); name each partition once`);
    }
    seen.set(key, index);
  });
  return parsed;
}

/** Kafka's ProduceRequest: batches for several partitions, acknowledged under one `acks`. */
export interface ProduceBatchesRequest {
  acks: Acks;
  /** Each parsed as a ProduceRequest, with the call's acks. */
  batches: ProduceRequest[];
}

/** A produce of several partitions' batches at once (`{ batches: [...] }`). */
export const isProduceBatchesRequest = (input: unknown): boolean => isRequestWith(input, 'batches');

export function parseProduceBatchesRequest(input: unknown): ProduceBatchesRequest {
  const raw = expectObject(input, 'request');
  const fields: RequestFields<wire.ProduceBatchesRequest> = raw;
  refuseSingleFields(raw, ['topic', 'partition', 'records'], (single) => `a produce of several batches names them in "batches" only; "${single}" belongs to a produce of one partition`);
  const acks = optional(fields.acks, expectAcks) ?? 'all';
  const batches = perPartition(expectArray(fields.batches, 'batches', { min: 1, max: MAX_BATCHES_PER_PRODUCE }), 'batches', (entry) => {
    if (typeof entry === 'object' && entry !== null && 'acks' in entry) {
      throw new ValidationError('"acks" is the call\'s, not a batch\'s: give it once, beside "batches"');
    }
    return { ...parseProduceRequest(entry), acks };
  });
  return { acks, batches };
}

/** The wire's consume request with its limits defaulted and its epoch alias resolved. */
export type ConsumeRequest = Pick<wire.ConsumeRequest, 'topic' | 'partition' | 'currentLeaderEpoch'> &
  Required<Pick<wire.ConsumeRequest, 'offset' | 'maxRecords' | 'maxBytes'>>;

export function parseConsumeRequest(input: unknown): ConsumeRequest {
  const fields = expectRequest<wire.ConsumeRequest>(input);
  return {
    topic: expectTopicName(fields.topic),
    partition: expectPartitionNumber(fields.partition),
    offset: optional(fields.offset, (v) => expectInteger(v, 'offset', NON_NEGATIVE)) ?? 0,
    maxRecords:
      optional(fields.maxRecords, (v) => expectInteger(v, 'maxRecords', { min: 1, max: MAX_RECORDS_PER_CONSUME })) ??
      DEFAULT_RECORDS_PER_CONSUME,
    maxBytes:
      optional(fields.maxBytes, (v) => expectInteger(v, 'maxBytes', { min: 1, max: MAX_BYTES_PER_CONSUME })) ?? DEFAULT_BYTES_PER_CONSUME,
    currentLeaderEpoch: expectCurrentLeaderEpoch(fields),
  };
}

/**
 * The wire's fetch with each partition's request parsed, fetch.max.bytes and fetch.min.bytes
 * defaulted (counted as the JSON the answer carries), and fetch.max.wait.ms (default 0).
 */
export interface FetchRequest extends Required<Pick<wire.FetchRequest, 'maxBytes' | 'maxWaitMs' | 'minBytes'>> {
  partitions: ConsumeRequest[];
}

/** A consume of many partitions at once (Kafka's Fetch): `{ partitions: [...] }`. */
export const isFetchRequest = (input: unknown): boolean => isRequestWith(input, 'partitions');

export function parseFetchRequest(input: unknown): FetchRequest {
  const raw = expectObject(input, 'request');
  const fields: RequestFields<wire.FetchRequest> = raw;
  refuseSingleFields(raw, ['topic', 'partition'], (single) => `a fetch names its partitions in "partitions" only; "${single}" belongs to a consume of one partition`);
  const partitions = perPartition(expectArray(fields.partitions, 'partitions', { min: 1, max: MAX_PARTITIONS_PER_FETCH }), 'partitions', parseConsumeRequest);
  return {
    partitions,
    maxBytes: optional(fields.maxBytes, (v) => expectInteger(v, 'maxBytes', { min: 1, max: MAX_BYTES_PER_FETCH })) ?? MAX_BYTES_PER_FETCH,
    maxWaitMs: optional(fields.maxWaitMs, (v) => expectInteger(v, 'maxWaitMs', { min: 0, max: MAX_FETCH_WAIT_MS })) ?? 0,
    minBytes: optional(fields.minBytes, (v) => expectInteger(v, 'minBytes', { min: 1, max: MAX_BYTES_PER_FETCH })) ?? 1,
  };
}

// ---- consumer groups

/** Group ids end up in table keys next to topic names, so they get the same rule. */
const GROUP_ID = TOPIC_NAME;

/** A member id is one the group gave (client id, incarnation, number). */
const MEMBER_ID: StringRule = {
  pattern: /^[a-zA-Z0-9._-]{1,128}$/,
  description: "1 to 128 characters of a-z, A-Z, 0-9, '.', '_' or '-' (as the group gave it)",
};

const PROTOCOL_NAME: StringRule = {
  pattern: /^[\x21-\x7e]{1,255}$/,
  description: '1 to 255 printable ASCII characters, no spaces',
};

const GENERATION = { min: 0, max: 2 ** 31 - 1 };

function expectBoundedString(value: unknown, field: string, maxBytes: number): string {
  const text = expectString(value, field);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new ValidationError(`"${field}" must hold at most ${maxBytes} bytes, got ${bytes}`);
  return text;
}

/** The fields every request of a group member has. */
function expectGroupFields(fields: RequestFields<wire.MemberRequest>): wire.MemberRequest {
  return {
    groupId: expectString(fields.groupId, 'groupId', GROUP_ID),
    coordinatorEpoch: optional(fields.coordinatorEpoch, epochIn('coordinatorEpoch')),
    groupInstanceId: optional(fields.groupInstanceId, (v) => expectString(v, 'groupInstanceId', GROUP_ID)),
  };
}

export type FindCoordinatorRequest = wire.FindCoordinatorRequest;

export function parseFindCoordinatorRequest(input: unknown): FindCoordinatorRequest {
  const fields = expectRequest<FindCoordinatorRequest>(input);
  return { groupId: expectString(fields.groupId, 'groupId', GROUP_ID) };
}

/** With its member id ("" for a new member), client id and timeouts defaulted. */
export type JoinGroupRequest = wire.MemberRequest & Required<Omit<wire.JoinGroupRequest, 'coordinatorEpoch' | 'groupInstanceId'>>;

export function parseJoinGroupRequest(input: unknown): JoinGroupRequest {
  const fields = expectRequest<wire.JoinGroupRequest>(input);
  const protocols = expectArray(fields.protocols, 'protocols', { min: 1, max: MAX_GROUP_PROTOCOLS }).map((entry, index) => {
    const protocol: RequestFields<wire.GroupProtocol> = expectObject(entry, `protocols[${index}]`);
    return {
      name: expectString(protocol.name, `protocols[${index}].name`, PROTOCOL_NAME),
      metadata: expectBoundedString(protocol.metadata, `protocols[${index}].metadata`, MAX_GROUP_METADATA_BYTES),
    };
  });
  protocols.forEach(({ name }, index) => {
    const earlier = protocols.findIndex((protocol) => protocol.name === name);
    if (earlier !== index) throw new ValidationError(`protocols[${index}] names "${name}" again (as protocols[${earlier}] did); offer each protocol once`);
  });
  const memberId = fields.memberId === '' ? '' : (optional(fields.memberId, (v) => expectString(v, 'memberId', MEMBER_ID)) ?? '');
  return {
    ...expectGroupFields(fields),
    memberId,
    clientId: optional(fields.clientId, (v) => expectString(v, 'clientId', BROKER_ID)) ?? 'consumer',
    protocolType: expectString(fields.protocolType, 'protocolType', PROTOCOL_NAME),
    protocols,
    sessionTimeoutMs:
      optional(fields.sessionTimeoutMs, (v) => expectInteger(v, 'sessionTimeoutMs', { min: 1, max: MAX_GROUP_TIMEOUT_MS })) ??
      DEFAULT_GROUP_SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs:
      optional(fields.rebalanceTimeoutMs, (v) => expectInteger(v, 'rebalanceTimeoutMs', { min: 1, max: MAX_GROUP_TIMEOUT_MS })) ??
      DEFAULT_GROUP_REBALANCE_TIMEOUT_MS,
  };
}

export type SyncGroupRequest = wire.SyncGroupRequest;

export function parseSyncGroupRequest(input: unknown): SyncGroupRequest {
  const fields = expectRequest<SyncGroupRequest>(input);
  const assignments = optional(fields.assignments, (v) =>
    expectArray(v, 'assignments', { min: 0, max: MAX_PARTITIONS }).map((entry, index) => {
      const assignment: RequestFields<wire.GroupAssignment> = expectObject(entry, `assignments[${index}]`);
      return {
        memberId: expectString(assignment.memberId, `assignments[${index}].memberId`, MEMBER_ID),
        assignment: expectBoundedString(assignment.assignment, `assignments[${index}].assignment`, MAX_GROUP_METADATA_BYTES),
      };
    }),
  );
  assignments?.forEach(({ memberId }, index) => {
    const earlier = assignments.findIndex((assignment) => assignment.memberId === memberId);
    if (earlier !== index) throw new ValidationError(`assignments[${index}] names member ${memberId} again (as assignments[${earlier}] did)`);
  });
  return {
    ...expectGroupFields(fields),
    memberId: expectString(fields.memberId, 'memberId', MEMBER_ID),
    generationId: expectInteger(fields.generationId, 'generationId', GENERATION),
    protocolType: optional(fields.protocolType, (v) => expectString(v, 'protocolType', PROTOCOL_NAME)),
    protocolName: optional(fields.protocolName, (v) => expectString(v, 'protocolName', PROTOCOL_NAME)),
    ...(assignments === undefined ? {} : { assignments }),
  };
}

export type GroupHeartbeatRequest = wire.GroupHeartbeatRequest;

export function parseGroupHeartbeatRequest(input: unknown): GroupHeartbeatRequest {
  const fields = expectRequest<GroupHeartbeatRequest>(input);
  return {
    ...expectGroupFields(fields),
    memberId: expectString(fields.memberId, 'memberId', MEMBER_ID),
    generationId: expectInteger(fields.generationId, 'generationId', GENERATION),
  };
}

export type LeaveGroupRequest = wire.LeaveGroupRequest;

export function parseLeaveGroupRequest(input: unknown): LeaveGroupRequest {
  const fields = expectRequest<LeaveGroupRequest>(input);
  return { ...expectGroupFields(fields), memberId: expectString(fields.memberId, 'memberId', MEMBER_ID) };
}

/** With generation -1 and member id "" for a commit outside the group protocol, and each partition's epoch and metadata defaulted. */
export interface OffsetCommitRequest extends wire.MemberRequest {
  generationId: number;
  memberId: string;
  offsets: Array<Required<wire.OffsetCommitPartition>>;
}

function parseCommittedOffset(input: unknown): Required<wire.OffsetCommitPartition> {
  const fields = expectRequest<wire.OffsetCommitPartition>(input);
  return {
    topic: expectTopicName(fields.topic),
    partition: expectPartitionNumber(fields.partition),
    offset: expectInteger(fields.offset, 'offset', NON_NEGATIVE),
    committedLeaderEpoch: optional(fields.committedLeaderEpoch, (v) => expectInteger(v, 'committedLeaderEpoch', { min: -1 })) ?? -1,
    metadata: optional(fields.metadata, (v) => expectBoundedString(v, 'metadata', MAX_OFFSET_METADATA_BYTES)) ?? '',
  };
}

export function parseOffsetCommitRequest(input: unknown): OffsetCommitRequest {
  const fields = expectRequest<wire.OffsetCommitRequest>(input);
  const generationId = optional(fields.generationId, (v) => expectInteger(v, 'generationId', { min: -1, max: GENERATION.max })) ?? -1;
  const memberId = fields.memberId === '' ? '' : (optional(fields.memberId, (v) => expectString(v, 'memberId', MEMBER_ID)) ?? '');
  if ((generationId === -1) !== (memberId === '')) {
    throw new ValidationError(
      `"generationId" ${generationId} with "memberId" ${JSON.stringify(memberId)}: a member commits with both, a commit outside the group protocol with neither`,
    );
  }
  return {
    ...expectGroupFields(fields),
    generationId,
    memberId,
    offsets: perPartition(expectArray(fields.offsets, 'offsets', { min: 1, max: MAX_OFFSETS_PER_COMMIT }), 'offsets', parseCommittedOffset),
  };
}

export type OffsetFetchRequest = wire.OffsetFetchRequest;

export function parseOffsetFetchRequest(input: unknown): OffsetFetchRequest {
  const fields = expectRequest<OffsetFetchRequest>(input);
  const partitions = optional(fields.partitions, (v) =>
    perPartition(expectArray(v, 'partitions', { min: 1, max: MAX_PARTITIONS_PER_FETCH }), 'partitions', (entry) => {
      const partition = expectRequest<wire.CommittedPartition>(entry);
      return { topic: expectTopicName(partition.topic), partition: expectPartitionNumber(partition.partition) };
    }),
  );
  return { ...expectGroupFields(fields), ...(partitions === undefined ? {} : { partitions }) };
}

/** The groups function's envelope: which API a request is for (its other fields are that API's). */
export function parseGroupsApi(input: unknown): wire.GroupsApi {
  const { api } = expectRequest<wire.GroupsRequest>(input);
  if (typeof api !== 'string' || !(GROUPS_APIS as readonly string[]).includes(api)) throw invalid('api', `one of ${GROUPS_APIS.join(', ')}`, api);
  return api as wire.GroupsApi;
}

/** Every api of the envelope, each once: an api added to GroupsRequest and not here does not compile. */
const GROUPS_APIS = Object.keys({
  FindCoordinator: true,
  JoinGroup: true,
  SyncGroup: true,
  Heartbeat: true,
  LeaveGroup: true,
  OffsetCommit: true,
  OffsetFetch: true,
  ListGroups: true,
  DescribeGroups: true,
} satisfies Record<wire.GroupsApi, true>) as readonly wire.GroupsApi[];

export function parseListGroupsRequest(input: unknown): Required<wire.ListGroupsRequest> {
  const fields = expectRequest<wire.ListGroupsRequest>(input);
  const states =
    optional(fields.states, (v) =>
      expectArray(v, 'states', { min: 0, max: GROUP_STATES.length }).map((state, index) => {
        if (typeof state !== 'string' || !(GROUP_STATES as readonly string[]).includes(state)) {
          throw invalid(`states[${index}]`, `one of ${GROUP_STATES.join(', ')}`, state);
        }
        return state as wire.GroupStateName;
      }),
    ) ?? [];
  return { states };
}

export function parseDescribeGroupsRequest(input: unknown): wire.DescribeGroupsRequest {
  const fields = expectRequest<wire.DescribeGroupsRequest>(input);
  const groupIds = expectArray(fields.groupIds, 'groupIds', { min: 1, max: MAX_GROUPS_PER_DESCRIBE }).map((groupId, index) =>
    expectString(groupId, `groupIds[${index}]`, GROUP_ID),
  );
  return { groupIds };
}
