/**
 * One chaos run on the deployed system: an embedded cloud in its fault mode (DynamoDB
 * throttles, 500s before and after a write, TransactionConflicts and latency at the edge;
 * Lambda sandboxes killed mid-invocation and early timeouts; stream batches delivered twice
 * or late), brokers killed, paused and shut down through the console's BrokerSimulator,
 * and the project's idempotent Producer (acks=all) and Consumer writing their histories.
 * After the fault phase every fault stops and every broker runs again (the heal phase);
 * each partition must then come back ONLINE with its high watermark at its leader's log
 * end within a bound, and the final logs are read from offset 0 to the high watermark.
 * The simulation's checker (test/simulation/checker.ts) judges the history.
 */
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { Consumer } from '../../client/consumer.js';
import { LeadershipClient, RemoteFunctionError, type DescribeResponse, type PartitionView } from '../../client/lambda-client.js';
import { Producer } from '../../client/producer.js';
import { asLeadershipOutputs } from '../../client/stack-outputs.js';
import { FAULT_KINDS, startLocalCloud, type ChaosRates, type FaultKind, type LocalCloud } from '../../localcloud/index.js';
import { check } from '../simulation/checker.js';
import { emptyHistory, type Ack, type FinalPartition, type History, type ProducerBatch, type Read, type Violation } from '../simulation/history.js';
import { Prng } from '../simulation/prng.js';

export const BROKER_FAULT_KINDS = ['broker.kill', 'broker.pause', 'broker.controlled-shutdown'] as const;
export type BrokerFaultKind = (typeof BROKER_FAULT_KINDS)[number];

export interface ChaosRunOptions {
  seed: number;
  /** A synthesized cloud assembly of the stack (cdk.out). */
  assemblyDir: string;
  stackName: string;
  /** The session timeout the assembly was synthesized with. */
  sessionTimeoutMs: number;
  /** How long faults are injected while the clients run. */
  faultPhaseMs: number;
  /** After the faults stop: how long every partition has to be ONLINE with its HW at its leader's log end. */
  healBoundMs?: number;
  partitions?: number;
  producers?: number;
  /** Records per batch: 1..maxBatch. */
  maxBatch?: number;
  rates?: Partial<ChaosRates>;
  log?: (line: string) => void;
  /**
   * For checking the harness itself: the producers send without idempotence while the
   * checker still holds them to exactly once, so a retried send written twice must be found.
   */
  withoutIdempotence?: boolean;
}

export interface ChaosRunResult {
  seed: number;
  durationMs: number;
  faults: Record<FaultKind | BrokerFaultKind, number>;
  batchesSent: number;
  batchesAcked: number;
  /** Sends that failed for good (their fate unknown: the checker finds them whole or absent). */
  batchesFailed: number;
  /** Acks whose holders could not be described (not checked against min.insync). */
  acksUnverified: number;
  recordsRead: number;
  finalRecords: number;
  /** From the end of the faults until every partition was ONLINE at its leader's log end (undefined: not within the bound). */
  healMs?: number;
  clientErrors: Record<string, number>;
  violations: Violation[];
  verdict: 'ok' | 'violations';
}

const TOPIC = 'chaos';
const BROKERS = ['b1', 'b2', 'b3'];
const MIN_INSYNC = 2;

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const log = options.log ?? (() => undefined);
  const startedAt = Date.now();
  const cloud = await startLocalCloud({ port: 0, assemblyDir: options.assemblyDir, ttlPeriodMs: 0, chaos: { seed: options.seed, rates: options.rates } });
  try {
    return await new ChaosRun(cloud, options, log, startedAt).run();
  } finally {
    await cloud.stop();
  }
}

class ChaosRun {
  private readonly prng: Prng;
  private readonly client: LeadershipClient;
  private readonly simulator: BrokerSimulator;
  private readonly partitions: number;
  private readonly history: History = emptyHistory(['all']);
  private readonly brokerFaults = Object.fromEntries(BROKER_FAULT_KINDS.map((kind) => [kind, 0])) as Record<BrokerFaultKind, number>;
  private readonly clientErrors: Record<string, number> = {};
  private batchesFailed = 0;
  private acksUnverified = 0;
  private readonly incarnations = new Map<string, number>();

  constructor(
    private readonly cloud: LocalCloud,
    private readonly options: ChaosRunOptions,
    private readonly log: (line: string) => void,
    private readonly startedAt: number,
  ) {
    this.prng = new Prng(options.seed);
    this.partitions = options.partitions ?? 3;
    const stack = cloud.stacks.find((deployed) => deployed.stackName === options.stackName);
    this.client = new LeadershipClient(asLeadershipOutputs(options.stackName, stack?.outputs), { endpoint: cloud.endpoint, region: cloud.region });
    this.simulator = new BrokerSimulator(this.client, {
      heartbeatIntervalMs: Math.max(200, Math.floor(options.sessionTimeoutMs / 6)),
      credentials: registerCredentials(this.client),
      onHeartbeat: (brokerId, response) => this.incarnations.set(brokerId, response.incarnation),
      onError: (_, error) => this.countError('heartbeat', error),
    });
  }

  private step(): number {
    return Date.now() - this.startedAt;
  }

  async run(): Promise<ChaosRunResult> {
    try {
      await this.simulator.start(BROKERS);
      await this.client.createTopic({ topic: TOPIC, partitions: this.partitions, replicationFactor: 3, minInsyncReplicas: MIN_INSYNC });
      this.log(`seed ${this.options.seed}: topic ${TOPIC} (${this.partitions} partitions, RF 3, min.insync ${MIN_INSYNC}) on ${BROKERS.join(', ')}; faults for ${this.options.faultPhaseMs} ms`);

      const chaos = this.cloud.chaos!;
      chaos.enable();
      const faultsEndAt = Date.now() + this.options.faultPhaseMs;
      let healed = false;
      // Each producer draws from its own generator, so that the broker faults' draws do not depend on how many sends ran.
      const producers = Array.from({ length: this.options.producers ?? 2 }, (_, i) => this.produce(`p${i}`, new Prng(this.options.seed * 31 + i + 1), faultsEndAt));
      const consumer = this.consume(() => healed);
      await this.brokerFaultsUntil(faultsEndAt);
      chaos.disable();
      await Promise.all(producers);
      const faultsEndedAt = Date.now();
      this.log(`seed ${this.options.seed}: faults over, healing`);

      const final = await this.heal();
      const healMs = final.healed ? Date.now() - faultsEndedAt : undefined;
      healed = true;
      await consumer;
      this.history.final = await this.finalLogs(final.describe);
      this.history.endStep = this.step();
      const violations = check(this.history);
      const faults = { ...chaos.faultCounts(), ...this.brokerFaults };
      return {
        seed: this.options.seed,
        durationMs: Date.now() - this.startedAt,
        faults,
        batchesSent: this.history.sent.length,
        batchesAcked: this.history.acks.length,
        batchesFailed: this.batchesFailed,
        acksUnverified: this.acksUnverified,
        recordsRead: this.history.reads.reduce((sum, read) => sum + read.records.length, 0),
        finalRecords: this.history.final.reduce((sum, partition) => sum + partition.log.length, 0),
        healMs,
        clientErrors: this.clientErrors,
        violations,
        verdict: violations.length === 0 ? 'ok' : 'violations',
      };
    } finally {
      await this.simulator.stop();
      this.client.close();
    }
  }

  /** One idempotent producer: batches of 1..maxBatch records to random partitions, one at a time, until the faults end. */
  private async produce(name: string, prng: Prng, until: number): Promise<void> {
    const producer = new Producer(this.client, { deliveryTimeoutMs: 30_000, enableIdempotence: !this.options.withoutIdempotence });
    let n = 0;
    while (Date.now() < until) {
      const partition = 1 + prng.int(this.partitions);
      const values = Array.from({ length: 1 + prng.int(this.options.maxBatch ?? 8) }, () => `${name}-${n++}`);
      const batch: ProducerBatch = { producer: name, partition: `${TOPIC}-${partition}`, values, step: this.step() };
      this.history.sent.push(batch);
      try {
        const ack = await producer.send(TOPIC, partition, values.map((value) => ({ key: null, value })));
        const step = this.step();
        const holders = await this.replicasHolding(partition, ack.lastOffset);
        if (holders === undefined) this.acksUnverified += 1;
        const record: Ack = {
          producer: name,
          partition: batch.partition,
          acks: 'all',
          leader: ack.leader,
          leaderEpoch: ack.leaderEpoch,
          baseOffset: ack.baseOffset,
          values,
          // What acks=all promises: the batch is on at least min.insync replicas once acknowledged.
          isrAtReturn: holders ?? [],
          minInsync: holders === undefined ? 0 : MIN_INSYNC,
          step,
        };
        this.history.acks.push(record);
      } catch (error) {
        // The batch's fate is unknown: it is never sent again (that would be a new batch), and the checker finds it whole or absent.
        this.batchesFailed += 1;
        this.countError('produce', error);
      }
    }
  }

  /** The replicas whose log holds `offset`, by a describe right after the acknowledgement. */
  private async replicasHolding(partition: number, offset: number): Promise<string[] | undefined> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      try {
        const view = partitionView(await this.client.describe(TOPIC), partition);
        if (view.LogEndOffsets) return view.Replicas.filter((replica) => (view.LogEndOffsets?.[replica] ?? 0) > offset);
      } catch (error) {
        this.countError('describe', error);
      }
      await sleep(200);
    }
    return undefined;
  }

  /** One consumer over every partition from offset 0, polling until the heal is over. */
  private async consume(done: () => boolean): Promise<void> {
    const consumer = new Consumer(this.client, { defaultApiTimeoutMs: 20_000, maxPollRecords: 100 });
    consumer.assign(Array.from({ length: this.partitions }, (_, i) => ({ topic: TOPIC, partition: i + 1, offset: 0 })));
    while (!done()) {
      const positions = new Map(consumer.assignment().map((assigned) => [assigned.partition, assigned.offset ?? 0]));
      try {
        const records = await consumer.poll();
        const step = this.step();
        for (const [partition, offset] of positions) {
          const mine = records.filter((record) => record.partition === partition);
          if (mine.length === 0) continue;
          const read: Read = { consumer: 'c0', session: 0, partition: `${TOPIC}-${partition}`, offset, records: mine.map(({ offset, value }) => ({ offset, value })), step };
          this.history.reads.push(read);
        }
        if (records.length === 0) await sleep(100);
      } catch (error) {
        this.countError('consume', error);
        await sleep(200);
      }
    }
  }

  /**
   * Broker faults: kill (heartbeats stop), pause and return, controlled shutdown, each undone
   * before the next; one time in four two brokers at once (each its own fault and hold), as
   * when a rack goes: partitions then go OFFLINE and must come back after the heal.
   */
  private async brokerFaultsUntil(until: number): Promise<void> {
    await sleep(this.prng.between(1000, 3000));
    while (Date.now() < until) {
      const first = this.prng.pick(BROKERS);
      const victims = this.prng.chance(0.25) ? [first, this.prng.pick(BROKERS.filter((broker) => broker !== first))] : [first];
      const faults = victims.map((broker) => ({
        broker,
        kind: this.prng.pick(BROKER_FAULT_KINDS),
        // Short or past the session timeout: a pause that ends before the lease lapses is a zombie's return.
        holdMs: this.prng.between(500, this.options.sessionTimeoutMs * 2),
      }));
      await Promise.all(faults.map((fault) => this.brokerFault(fault.broker, fault.kind, fault.holdMs)));
      await sleep(this.prng.between(500, 3000));
    }
  }

  private async brokerFault(broker: string, kind: BrokerFaultKind, holdMs: number): Promise<void> {
    this.brokerFaults[kind] += 1;
    this.log(`seed ${this.options.seed}: ${kind} ${broker} for ${holdMs} ms`);
    if (kind === 'broker.pause') {
      this.simulator.pause(broker);
      await sleep(holdMs);
      await this.simulator.resume(broker).catch((error: unknown) => this.countError('resume', error));
      return;
    }
    await this.simulator.kill(broker).catch((error: unknown) => this.countError('kill', error));
    if (kind === 'broker.controlled-shutdown') await this.controlledShutdown(broker);
    await sleep(holdMs);
    await this.simulator.revive(broker).catch((error: unknown) => this.countError('revive', error));
  }

  /** As a Kafka broker does: retried until it succeeds or the lease it runs under is about to lapse. */
  private async controlledShutdown(broker: string): Promise<void> {
    const incarnation = this.incarnations.get(broker);
    if (incarnation === undefined) return;
    const deadline = Date.now() + this.options.sessionTimeoutMs;
    while (Date.now() < deadline) {
      try {
        await this.client.controlledShutdown(broker, incarnation, this.simulator.credentialOf(broker));
        return;
      } catch (error) {
        this.countError('controlled-shutdown', error);
        await sleep(200);
      }
    }
  }

  /** Every broker runs (the fault loop revived them); waits for each partition ONLINE at its leader's log end, up to the bound. */
  private async heal(): Promise<{ healed: boolean; describe: DescribeResponse | undefined }> {
    const bound = this.options.healBoundMs ?? this.options.sessionTimeoutMs * 10;
    const deadline = Date.now() + bound;
    let last: DescribeResponse | undefined;
    while (Date.now() < deadline) {
      try {
        last = await this.client.describe(TOPIC);
        const views = last.topics[0]?.partitions ?? [];
        const allAlive = BROKERS.every((id) => last?.brokers.some((broker) => broker.brokerId === id && broker.alive));
        if (allAlive && views.length === this.partitions && views.every(isCaughtUp)) return { healed: true, describe: last };
      } catch (error) {
        this.countError('heal-describe', error);
      }
      await sleep(500);
    }
    return { healed: false, describe: last };
  }

  /** Each partition read from 0 to its high watermark by a fresh consumer, faults off. */
  private async finalLogs(describe: DescribeResponse | undefined): Promise<FinalPartition[]> {
    const finals: FinalPartition[] = [];
    const alive = new Set(describe?.brokers.filter((broker) => broker.alive).map((broker) => broker.brokerId));
    for (let partition = 1; partition <= this.partitions; partition += 1) {
      const view = describe?.topics[0]?.partitions.find((candidate) => candidate.Partition === partition);
      const name = `${TOPIC}-${partition}`;
      const highWatermark = view?.HighWatermark ?? 0;
      const leaderLogEnd = view?.Leader ? (view.LogEndOffsets?.[view.Leader] ?? 0) : 0;
      // Who could lead it: a live replica holding every committed record.
      const liveEligibleReplica = view?.Replicas.find((replica) => alive.has(replica) && (view.LogEndOffsets?.[replica] ?? 0) >= highWatermark) ?? null;
      const log = view?.State === 'ONLINE' ? await this.readAll(partition, highWatermark) : undefined;
      finals.push({
        partition: name,
        // Unreadable within the bound counts as not live.
        state: view?.State === 'ONLINE' && log !== undefined ? 'ONLINE' : 'OFFLINE',
        leader: log !== undefined ? (view?.Leader ?? null) : null,
        highWatermark,
        leaderLogEnd,
        log: log ?? [],
        liveEligibleReplica,
      });
    }
    return finals;
  }

  private async readAll(partition: number, highWatermark: number): Promise<Array<{ offset: number; value: string }> | undefined> {
    const consumer = new Consumer(this.client, { defaultApiTimeoutMs: 30_000, maxPollRecords: 500 });
    consumer.assign([{ topic: TOPIC, partition, offset: 0 }]);
    const records: Array<{ offset: number; value: string }> = [];
    let emptyPolls = 0;
    try {
      while (consumer.position(TOPIC, partition) < highWatermark) {
        const polled = await consumer.poll();
        if (polled.length === 0) {
          // Below the high watermark there is always something to read: the checker judges what is missing.
          if (++emptyPolls >= 10) break;
          await sleep(200);
          continue;
        }
        records.push(...polled.map(({ offset, value }) => ({ offset, value })));
      }
      return records;
    } catch (error) {
      this.countError('final-read', error);
      return undefined;
    }
  }

  private countError(where: string, error: unknown): void {
    const type = error instanceof RemoteFunctionError ? error.errorType : error instanceof Error ? error.name : 'unknown';
    const key = `${where}: ${type}`;
    this.clientErrors[key] = (this.clientErrors[key] ?? 0) + 1;
  }
}

function isCaughtUp(view: PartitionView): boolean {
  return view.State === 'ONLINE' && view.Leader !== null && view.HighWatermark === (view.LogEndOffsets?.[view.Leader] ?? -1);
}

function partitionView(describe: DescribeResponse, partition: number): PartitionView {
  const view = describe.topics[0]?.partitions.find((candidate) => candidate.Partition === partition);
  if (!view) throw new Error(`${TOPIC}-${partition} missing from describe`);
  return view;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const ALL_FAULT_KINDS: ReadonlyArray<FaultKind | BrokerFaultKind> = [...FAULT_KINDS, ...BROKER_FAULT_KINDS];
