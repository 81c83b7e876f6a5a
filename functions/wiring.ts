/**
 * The composition root: the only place that constructs SDK clients and
 * adapters. Each handler calls `wire(FUNCTIONS.<name>)` at module load (cold
 * start) with its entry of the function table, the same entry the stack grants
 * and sets variables from; only the configuration of the resources it uses (and
 * the tunables every function carries) is read, so a missing variable fails the
 * cold start with its name. A dependency the entry does not use throws on first
 * use, naming itself, instead of running with an empty table name.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBrokerIdentityReader, DynamoBrokerRegistry, DynamoMetadataStore, DynamoPartitionLog } from './adapters/dynamodb/index.js';
import { DynamoGroupStore } from './adapters/dynamodb/group-store.js';
import type { BatchCompression } from './adapters/dynamodb/record-batch-codec.js';
import { S3ObjectStore } from './adapters/s3/object-store.js';
import { SqsEventPublisher } from './adapters/sqs/index.js';
import {
  ConfigError,
  brokersTableConfig,
  leadershipEventsConfig,
  leadershipSettings,
  metadataTableConfig,
  objectStoreConfig,
  partitionLogConfig,
} from './config.js';
import { dependenciesOf, type Dependency, type FunctionSpec } from './function-table.js';
import type { Clock, Deps, GroupDeps } from './ports/index.js';

const systemClock: Clock = { now: () => Date.now() };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// One client per service per container, created on first need and reused by every invocation.
let documentClient: DynamoDBDocumentClient | undefined;
const dynamo = (): DynamoDBDocumentClient =>
  (documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    // Optional domain fields (e.g. an absent key) are left out rather than rejected.
    marshallOptions: { removeUndefinedValues: true },
  }));

let sqsClient: SQSClient | undefined;
const sqs = (): SQSClient => (sqsClient ??= new SQSClient({}));

let s3Client: S3Client | undefined;
// No endpoint nor addressing style here: SDK v3 takes AWS_ENDPOINT_URL from the environment, and path style for an IP endpoint.
const s3 = (): S3Client => (s3Client ??= new S3Client({}));

/**
 * A topic's compression.type for the objects a produce writes, read once per container
 * (settings do not change while a topic exists), from the metadata table only when a
 * write needs it.
 */
let topicReader: DynamoMetadataStore | undefined;
const compressionOf = async (topic: string): Promise<BatchCompression> => {
  topicReader ??= new DynamoMetadataStore(dynamo(), metadataTableConfig().metadataTable, { cacheTopicConfigs: true });
  return (await topicReader.getTopic(topic))?.compressionType === 'gzip' ? 'gzip' : 'none';
};

/** Stands in for a dependency the function was not wired with; any use names the omission. */
function notWired<T extends object>(dependency: Dependency): T {
  return new Proxy({} as T, {
    get(_target, property) {
      // Symbols and `then` are probed by inspection and by `await`; they must not throw.
      if (typeof property === 'symbol' || property === 'then') return undefined;
      throw new ConfigError(
        `Dependency '${dependency}' (${property}) is not wired for this function: add it to the function's \`uses\` in functions/function-table.ts.`,
      );
    },
  });
}

export function wire(spec: Pick<FunctionSpec, 'uses'>): Deps {
  const needed = new Set(dependenciesOf(spec));
  const build = <T extends object>(dependency: Dependency, create: () => T): T =>
    needed.has(dependency) ? create() : notWired<T>(dependency);
  let objectStore: S3ObjectStore | undefined;
  const objects = (): S3ObjectStore => (objectStore ??= new S3ObjectStore(s3(), { ...objectStoreConfig(), compressionOf }, systemClock));

  return {
    clock: systemClock,
    sleep,
    settings: leadershipSettings(),
    brokers: build('brokers', () => new DynamoBrokerRegistry(dynamo(), brokersTableConfig().brokersTable)),
    metadata: build('metadata', () =>
      new DynamoMetadataStore(dynamo(), metadataTableConfig().metadataTable, { cacheTopicConfigs: true }),
    ),
    identity:
      needed.has('brokers') && needed.has('metadata')
        ? new DynamoBrokerIdentityReader(dynamo(), brokersTableConfig().brokersTable, metadataTableConfig().metadataTable)
        : notWired(needed.has('brokers') ? 'metadata' : 'brokers'),
    // A log that reads diskless items needs the object store: every function with the log has it.
    log: build('log', () => new DynamoPartitionLog(dynamo(), partitionLogConfig(), systemClock, needed.has('objects') ? objects() : undefined)),
    events: build('events', () => new SqsEventPublisher(sqs(), leadershipEventsConfig().queueUrl)),
    objects: build('objects', objects),
  };
}

/** `wire` plus the group store, which lives in the metadata table: for the functions of the group coordinator. */
export function wireGroups(spec: Pick<FunctionSpec, 'uses'>): GroupDeps {
  if (spec.uses.metadata !== 'readWrite') throw new ConfigError("The group coordinator's functions need `metadata: 'readWrite'` in functions/function-table.ts.");
  return { ...wire(spec), groups: new DynamoGroupStore(dynamo(), metadataTableConfig().metadataTable) };
}
