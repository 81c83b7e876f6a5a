/**
 * A cluster harness over the memory adapters: brokers that heartbeat while time
 * passes, a failure detector that reads the heartbeat stream, and a replicator
 * that reads the log stream, wired to the domain exactly as the handlers are.
 */
import {
  createMemoryDeps,
  type MemoryDeps,
  type YieldPoint,
} from '../../functions/adapters/memory/index.js';
import { createHash } from 'node:crypto';
import {
  createTopic,
  heartbeat,
  registerBroker,
  onBrokerGone,
  onBrokerRegistered,
  produce,
  replicate,
  sweepExpiredBrokers,
  type HeartbeatResponse,
  type ProduceResponse,
  type CreateTopicResponse,
} from '../../functions/domain/index.js';
import type { BrokerId, LeadershipEvent, PartitionMetadata } from '../../functions/domain/model.js';
import type { Deps, LeadershipSettings } from '../../functions/ports/index.js';

/**
 * The credential tests register for a broker (the admin may choose it, as SCRAM lets the
 * admin choose a password): the same every run, so no test needs a secret store.
 */
export const credentialFor = (brokerId: BrokerId): string => createHash('sha256').update(`test broker ${brokerId}`).digest('base64url');

/** An admin registers the brokers' credentials (credentialFor), through the real domain. */
export async function registerBrokers(deps: Deps, ...brokerIds: BrokerId[]): Promise<void> {
  for (const brokerId of brokerIds) await registerBroker(deps, { brokerId, credential: credentialFor(brokerId) });
}

/** Kafka's broker heartbeat interval. */
/** An idempotent produce of `values` as one batch to orders-1, the partition the domain tests use. */
export const produceIdempotent = (
  deps: Deps,
  producer: { producerId: number; producerEpoch: number },
  baseSequence: number,
  values: string[],
  extra: object = {},
): Promise<ProduceResponse> =>
  produce(deps, { topic: 'orders', partition: 1, records: values.map((value) => ({ value })), ...producer, baseSequence, ...extra });

export const HEARTBEAT_INTERVAL_MS = 2_000;

export interface HarnessOptions {
  settings?: Partial<LeadershipSettings>;
  /** What happens while a produce waits for acks; by default the replicator drains the log stream. */
  whileWaiting?: (cluster: ClusterHarness) => Promise<void>;
  /** Passed to createMemoryDeps: a hook before every store operation (to fail one), and the transaction size. */
  yieldPoint?: YieldPoint;
  maxTransactionItems?: number;
}

export class ClusterHarness {
  readonly deps: MemoryDeps;
  private readonly incarnations = new Map<BrokerId, number>();
  private readonly running = new Set<BrokerId>();

  constructor(options: HarnessOptions = {}) {
    const whileWaiting = options.whileWaiting ?? ((cluster: ClusterHarness) => cluster.replicateAll());
    this.deps = createMemoryDeps({
      settings: options.settings,
      whileSleeping: () => whileWaiting(this),
      yieldPoint: options.yieldPoint,
      maxTransactionItems: options.maxTransactionItems,
    });
  }

  /** Registers the brokers' credentials and leases, and lets the failure detector see them join. */
  async start(...brokerIds: BrokerId[]): Promise<void> {
    await registerBrokers(this.deps, ...brokerIds);
    for (const brokerId of brokerIds) {
      this.running.add(brokerId);
      await this.heartbeat(brokerId);
    }
    await this.runFailureDetector();
  }

  /** A heartbeat with the broker's credential (credentialFor) and the incarnation it last got. */
  async heartbeat(brokerId: BrokerId): Promise<HeartbeatResponse> {
    const credential = credentialFor(brokerId);
    const result = await heartbeat(this.deps, { brokerId, credential, incarnation: this.incarnations.get(brokerId) });
    this.incarnations.set(brokerId, result.incarnation);
    return result;
  }

  incarnationOf(brokerId: BrokerId): number {
    const incarnation = this.incarnations.get(brokerId);
    if (incarnation === undefined) throw new Error(`broker ${brokerId} never heartbeated`);
    return incarnation;
  }

  /** The brokers stop heartbeating (crash, pause, partition from the cluster). */
  stop(...brokerIds: BrokerId[]): void {
    for (const brokerId of brokerIds) this.running.delete(brokerId);
  }

  /** Time passes in heartbeat intervals; running brokers heartbeat (and so sweep lapsed leases) at each. */
  async elapse(ms: number): Promise<void> {
    for (let passed = 0; passed < ms; passed += HEARTBEAT_INTERVAL_MS) {
      this.deps.clock.advance(Math.min(HEARTBEAT_INTERVAL_MS, ms - passed));
      for (const brokerId of this.running) await this.heartbeat(brokerId);
    }
  }

  /** Stops the brokers, waits out their leases, sweeps them and runs the failure detector on the REMOVEs. */
  async kill(...brokerIds: BrokerId[]): Promise<LeadershipEvent[]> {
    this.stop(...brokerIds);
    await this.elapse(this.deps.settings.sessionTimeoutMs + HEARTBEAT_INTERVAL_MS);
    await sweepExpiredBrokers(this.deps);
    return this.runFailureDetector();
  }

  /** The broker heartbeats again (with the incarnation it had) and the failure detector sees it rejoin. */
  async revive(brokerId: BrokerId): Promise<LeadershipEvent[]> {
    this.running.add(brokerId);
    await this.heartbeat(brokerId);
    return this.runFailureDetector();
  }

  /** What the failure-detector handler does with the heartbeat stream. */
  async runFailureDetector(): Promise<LeadershipEvent[]> {
    const events: LeadershipEvent[] = [];
    for (const change of this.deps.brokers.drainStream()) {
      if (change.eventName === 'REMOVE') {
        const gone = change.oldImage;
        const departure = gone.deadlineMs < this.deps.clock.now() ? 'EXPIRED' : 'DEREGISTERED';
        events.push(...(await onBrokerGone(this.deps, gone, departure)));
      } else if (change.eventName === 'INSERT') {
        events.push(...(await onBrokerRegistered(this.deps, change.newImage)));
      }
    }
    return events;
  }

  /** What the replicate handler does with the log stream, until it is empty. */
  async replicateAll(): Promise<void> {
    for (let records = this.deps.log.drainLeaderAppends(); records.length > 0; records = this.deps.log.drainLeaderAppends()) {
      await replicate(this.deps, records);
    }
  }

  createTopic(topic: string, partitions: number, replicationFactor: number, extra: object = {}): Promise<CreateTopicResponse> {
    return createTopic(this.deps, { topic, partitions, replicationFactor, ...extra });
  }

  produceValues(topic: string, partition: number, values: string[], extra: object = {}): Promise<ProduceResponse> {
    return produce(this.deps, { topic, partition, records: values.map((value) => ({ value })), ...extra });
  }

  async partition(topic: string, partition: number): Promise<PartitionMetadata> {
    const metadata = await this.deps.metadata.getPartition(topic, partition);
    if (!metadata) throw new Error(`no partition ${topic}-${partition}`);
    return metadata;
  }

  /** Values of one replica's copy of the log, in offset order. */
  valuesOn(topic: string, partition: number, replica: BrokerId): string[] {
    return this.deps.log.replicaRecords(topic, partition, replica).map((record) => record.value);
  }

  /** Delivered events after the topic's CREATED ones, i.e. the changes a test caused. */
  changeEvents(): LeadershipEvent[] {
    return this.deps.events.delivered.filter((event) => event.reason !== 'CREATED');
  }
}

/** Everything a use case could have written, to prove that a refused request wrote nothing. */
export async function observableState(deps: MemoryDeps): Promise<string> {
  const partitions = await deps.metadata.listPartitions();
  const replicas = await Promise.all(
    partitions.map(async (p) => ({
      states: await deps.metadata.getReplicaStates(p.topic, p.partition),
      logs: p.replicas.map((replica) => deps.log.replicaRecords(p.topic, p.partition, replica)),
    })),
  );
  return JSON.stringify({
    brokers: await deps.brokers.list(),
    credentials: [...deps.tables.brokerCredentials.values()],
    topics: await deps.metadata.listTopics(),
    partitions,
    replicas,
    published: deps.events.published.length,
  });
}
