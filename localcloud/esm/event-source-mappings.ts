/**
 * Event source mappings of the embedded cloud: Lambda's pollers for DynamoDB
 * streams (DynamoDB Local's) and SQS queues (moto's), polled here as Lambda's pollers do:
 * neither emulator runs mappings of its own that call this cloud's functions.
 *
 * Mappings can be upserted before or after start(); an upsert of a running mapping
 * restarts its poller once the old one has stopped, resuming from its checkpoint.
 */
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ChaosFaults } from '../chaos.js';
import { parseQueueArn } from '../shared/arn.js';
import { localClientConfig } from '../shared/aws-clients.js';
import { createLogger } from '../shared/log.js';
import { DynamoStreamPoller } from './dynamodb-stream-poller.js';
import { compileFilterPatterns, type RecordPredicate } from './filter.js';
import { OnFailureDestination } from './on-failure.js';
import type { MappingPoller, PollerDeps } from './poller.js';
import { SqsPoller } from './sqs-poller.js';
import type { EventSourceMappingSpec, LambdaRuntime } from '../types.js';

export { FilterPatternError } from './filter.js';

const DEFAULT_POLL_INTERVAL_MS = 100;
/** Lambda's limits: batches of up to 10,000 records, windows of up to 300 s. */
const MAX_BATCH_SIZE = 10_000;
const MAX_BATCHING_WINDOW_SECONDS = 300;

export class InvalidEventSourceMappingError extends Error {
  constructor(uuid: string, problem: string) {
    super(`Event source mapping ${uuid}: ${problem}`);
    this.name = 'InvalidEventSourceMappingError';
  }
}

function validate(spec: EventSourceMappingSpec): RecordPredicate {
  const fail = (problem: string): never => {
    throw new InvalidEventSourceMappingError(spec.uuid, problem);
  };
  if (!Number.isInteger(spec.batchSize) || spec.batchSize < 1 || spec.batchSize > MAX_BATCH_SIZE) {
    fail(`batchSize must be 1..${MAX_BATCH_SIZE}, got ${spec.batchSize}`);
  }
  const window = spec.maximumBatchingWindowInSeconds;
  if (!(window >= 0 && window <= MAX_BATCHING_WINDOW_SECONDS)) {
    fail(`maximumBatchingWindowInSeconds must be 0..${MAX_BATCHING_WINDOW_SECONDS}, got ${window}`);
  }
  if (spec.onFailureDestinationArn !== undefined) {
    try {
      parseQueueArn(spec.onFailureDestinationArn);
    } catch {
      fail(`on-failure destination ${spec.onFailureDestinationArn} is not an SQS queue (the only kind emulated)`);
    }
  }
  return compileFilterPatterns(spec.filterPatterns);
}

export class EventSourceMappings {
  private readonly specs = new Map<string, { spec: EventSourceMappingSpec; filter: RecordPredicate }>();
  private readonly pollers = new Map<string, MappingPoller>();
  /** Stops in progress per mapping; a successor poller waits for them (no overlapping pollers). */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly streams: DynamoDBStreamsClient;
  private readonly sqs: SQSClient;
  private readonly deps: PollerDeps;
  private running = false;

  constructor(runtime: LambdaRuntime, opts: { awsEndpoint: string; region: string; pollIntervalMs?: number; chaos?: ChaosFaults }) {
    const config = localClientConfig(opts);
    this.streams = new DynamoDBStreamsClient(config);
    this.sqs = new SQSClient(config);
    const log = createLogger('esm');
    this.deps = {
      runtime,
      streams: this.streams,
      sqs: this.sqs,
      region: opts.region,
      pollIntervalMs: opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      checkpoints: new Map(),
      onFailure: new OnFailureDestination(this.sqs, log),
      log,
      chaos: opts.chaos,
    };
  }

  /** Adds or replaces a mapping. Throws InvalidEventSourceMappingError / FilterPatternError for a bad spec. */
  upsert(spec: EventSourceMappingSpec): void {
    const filter = validate(spec);
    const previous = this.specs.get(spec.uuid);
    if (previous && JSON.stringify(previous.spec) === JSON.stringify(spec)) return;
    this.specs.set(spec.uuid, { spec: structuredClone(spec), filter });
    if (this.running) this.restart(spec.uuid);
  }

  remove(uuid: string): void {
    this.specs.delete(uuid);
    void this.stopPoller(uuid);
  }

  list(): EventSourceMappingSpec[] {
    return [...this.specs.values()].map(({ spec }) => structuredClone(spec));
  }

  get(uuid: string): EventSourceMappingSpec | undefined {
    const entry = this.specs.get(uuid);
    return entry ? structuredClone(entry.spec) : undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const uuid of this.specs.keys()) this.restart(uuid);
  }

  /** Stops every poller and waits for in-flight invocations to settle. */
  async stop(): Promise<void> {
    this.running = false;
    for (const uuid of [...this.pollers.keys()]) void this.stopPoller(uuid);
    await Promise.all(this.stopping.values());
  }

  private stopPoller(uuid: string): Promise<void> {
    const poller = this.pollers.get(uuid);
    const earlier = this.stopping.get(uuid) ?? Promise.resolve();
    if (!poller) return earlier;
    this.pollers.delete(uuid);
    const stopped: Promise<void> = earlier
      .then(() => poller.stop())
      .finally(() => {
        if (this.stopping.get(uuid) === stopped) this.stopping.delete(uuid);
      });
    this.stopping.set(uuid, stopped);
    return stopped;
  }

  private restart(uuid: string): void {
    const previousStopped = this.stopPoller(uuid);
    const entry = this.specs.get(uuid);
    if (!entry || !entry.spec.enabled) return;
    const { spec, filter } = entry;
    const poller =
      spec.source.kind === 'dynamodb'
        ? new DynamoStreamPoller(spec, spec.source, this.deps, filter, previousStopped)
        : new SqsPoller(spec, spec.source, this.deps, filter, previousStopped);
    this.pollers.set(uuid, poller);
  }
}
