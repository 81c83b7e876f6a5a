/**
 * A producer and a consumer on the client, looping over a few partitions of one topic while
 * a test moves leadership under them (controlled shutdown, preferred-leader election).
 *
 * Every produce and consume the clients make goes through an instrumented transport, so the
 * test sees each call's outcome, the leader and epoch that served it, and when it ended:
 * that is where the per-partition unavailability comes from (the last successful call at the
 * old leader to the first at the new one), without reading any table.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'vitest';
import { Consumer, type ConsumerRecord } from '../../../client/consumer.js';
import { LeadershipClient, RemoteFunctionError, type LambdaTransport } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { Producer, type RecordMetadata } from '../../../client/producer.js';
import type { StackTarget } from './global-setup.js';

export type Role = 'produce' | 'consume';

/** One produce or consume invocation as the transport saw it. */
export interface CallRecord {
  role: Role;
  partition: number;
  startedAt: number;
  endedAt: number;
  /** The epoch the client named (KIP-320), if any. */
  requestEpoch?: number;
  /** Set on success: who served it, under which epoch. */
  leader?: string;
  leaderEpoch?: number;
  /** Set on failure: the function's errorType, or the transport fault's name. */
  errorType?: string;
}

export interface RetrySeen {
  role: Role;
  partition: number;
  at: number;
  errorType: string;
}

export interface Acked {
  value: string;
  ack: RecordMetadata;
  sentAt: number;
  ackedAt: number;
}

/**
 * A LeadershipClient whose produce and consume calls are recorded. It carries the SDK's
 * Lambda Invoke exactly as the default transport does (one attempt, no SDK retries).
 */
export function instrumentedClient(target: StackTarget, topic: string): { client: LeadershipClient; calls: CallRecord[]; close: () => void } {
  const lambda = new LambdaClient({ region: target.region, endpoint: target.endpoint, maxAttempts: 1 });
  const calls: CallRecord[] = [];
  const roles = new Map<string, Role>([
    [target.outputs.ProduceFunctionName, 'produce'],
    [target.outputs.ConsumeFunctionName, 'consume'],
  ]);
  const transport: LambdaTransport = async (functionName, payload) => {
    const role = roles.get(functionName);
    const request = JSON.parse(payload) as { topic?: string; partition?: number; leaderEpoch?: number; currentLeaderEpoch?: number };
    const watched = role !== undefined && request.topic === topic;
    const startedAt = Date.now();
    try {
      const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(payload) }));
      const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : 'null';
      if (watched) {
        const body = JSON.parse(text === '' ? 'null' : text) as { leader?: string; leaderEpoch?: number; errorType?: string } | null;
        calls.push({
          role,
          partition: request.partition!,
          startedAt,
          endedAt: Date.now(),
          requestEpoch: request.currentLeaderEpoch ?? request.leaderEpoch,
          ...(response.FunctionError
            ? { errorType: body?.errorType ?? response.FunctionError }
            : { leader: body?.leader, leaderEpoch: body?.leaderEpoch }),
        });
      }
      return { payload: text, functionError: response.FunctionError };
    } catch (error) {
      if (watched) calls.push({ role, partition: request.partition!, startedAt, endedAt: Date.now(), errorType: (error as Error).name });
      throw error;
    }
  };
  return { client: new LeadershipClient(target.outputs, { transport }), calls, close: () => lambda.destroy() };
}

const errorTypeOf = (error: unknown): string => (error instanceof RemoteFunctionError ? error.errorType : (error as Error).name);

/**
 * One producer loop per partition (one send of one record at a time, acks=all, as a
 * Kafka producer with max.in.flight 1 and linger 0 would) and one consumer assigned every
 * partition, polling until told to stop and then until it reaches each partition's end.
 * A send or a poll that throws is a failed call: it is recorded and its loop stops.
 */
export class ClientLoad {
  readonly acks = new Map<number, Acked[]>();
  readonly consumed = new Map<number, ConsumerRecord[]>();
  readonly retries: RetrySeen[] = [];
  readonly failures: Array<{ role: Role; partition?: number; error: Error }> = [];
  private producing = true;
  private consumeUntil?: Map<number, number>;
  private readonly loops: Array<Promise<void>> = [];
  private readonly consumer: Consumer;

  constructor(
    private readonly client: LeadershipClient,
    readonly topic: string,
    readonly partitions: number[],
    /** Overall bound of the loops: a loop still running then has stalled. */
    private readonly deadlineAt: number,
  ) {
    for (const partition of partitions) {
      this.acks.set(partition, []);
      this.consumed.set(partition, []);
    }
    this.consumer = new Consumer(client, {
      maxPollRecords: 100,
      onRetry: ({ operation, error }) => {
        const partition = Number(/-(\d+) at offset/.exec(operation)?.[1]);
        this.retries.push({ role: 'consume', partition, at: Date.now(), errorType: errorTypeOf(error) });
      },
    });
    this.consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 0 })));
  }

  start(): void {
    for (const partition of this.partitions) this.loops.push(this.produceLoop(partition));
    this.loops.push(this.consumeLoop());
  }

  /** The value of the index-th record sent to a partition: unique across the topic. */
  static valueOf(topic: string, partition: number, index: number): string {
    return `${topic}/p${partition}/r${index}`;
  }

  private async produceLoop(partition: number): Promise<void> {
    const producer = new Producer(this.client, {
      deliveryTimeoutMs: 60_000,
      // E2E_IDEMPOTENCE=false runs the scenarios with Kafka's enable.idempotence=false: the
      // duplicate assertion then catches the retried sends that append twice (a detection check).
      enableIdempotence: process.env.E2E_IDEMPOTENCE !== 'false',
      onRetry: ({ error }) => this.retries.push({ role: 'produce', partition, at: Date.now(), errorType: errorTypeOf(error) }),
    });
    const acked = this.acks.get(partition)!;
    for (let index = 0; this.producing && Date.now() < this.deadlineAt && this.failures.length === 0; index += 1) {
      const value = ClientLoad.valueOf(this.topic, partition, index);
      const sentAt = Date.now();
      try {
        const ack = await producer.send(this.topic, partition, [{ key: `k${index % 4}`, value }]);
        acked.push({ value, ack, sentAt, ackedAt: Date.now() });
      } catch (error) {
        this.failures.push({ role: 'produce', partition, error: error as Error });
        return;
      }
    }
  }

  private async consumeLoop(): Promise<void> {
    while (Date.now() < this.deadlineAt && this.failures.length === 0) {
      const until = this.consumeUntil;
      if (until && [...until].every(([partition, end]) => this.consumer.position(this.topic, partition) >= end)) return;
      let records: ConsumerRecord[];
      try {
        records = await this.consumer.poll();
      } catch (error) {
        this.failures.push({ role: 'consume', error: error as Error });
        return;
      }
      for (const record of records) this.consumed.get(record.partition)!.push(record);
      // Nothing new: poll again shortly (a consumer's fetch wait), not in a hot loop.
      if (records.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Acknowledged sends of a partition that were sent after `at`. */
  acksSentAfter(partition: number, at: number): Acked[] {
    return this.acks.get(partition)!.filter((acked) => acked.sentAt > at);
  }

  /** Waits until every partition has `count` acks sent after `at` and the consumer has read `count` records of each. */
  async waitForProgress(at: number, count: number, description: string): Promise<void> {
    await pollUntil(
      () => {
        if (this.failures.length > 0) throw new Error(`a client call failed: ${this.failures.map(({ error }) => error.message).join('; ')}`);
        return this.partitions.every(
          (partition) =>
            this.acksSentAfter(partition, at).length >= count &&
            this.consumed.get(partition)!.filter((record) => record.appendedAt > at).length >= Math.min(count, 1),
        );
      },
      { timeoutMs: Math.max(1000, this.deadlineAt - Date.now()), intervalMs: 50, description },
    );
  }

  /** Stops the producers, then lets the consumer read up to each partition's high watermark. */
  async stop(): Promise<Map<number, number>> {
    this.producing = false;
    await Promise.all(this.loops.slice(0, this.partitions.length));
    const description = await this.client.describe(this.topic);
    const ends = new Map(description.topics[0].partitions.map((view) => [view.Partition, view.HighWatermark]));
    this.consumeUntil = ends;
    await Promise.all(this.loops);
    return ends;
  }
}

/**
 * What "no failed call, no duplicate, no gap" means, per partition: no send and no poll
 * threw; the consumed offsets are 0..n-1, each once, in order, n the final high watermark;
 * every acknowledged record is at its acknowledged offset; no record value is at two
 * offsets (a retried send appended twice); every consumed value was sent to that partition.
 * Each is a soft assertion, so a failing run names every broken one; a duplicate is also
 * explained on the console (each copy's offset and epoch, and the attempts of its send), for
 * whoever works on the idempotent producer.
 */
export function expectExactlyOnceInOrder(load: ClientLoad, ends: Map<number, number>, calls: CallRecord[], tag: string): void {
  expect.soft(load.failures.map(({ role, partition, error }) => `${role} ${partition ?? ''}: ${error.message}`), 'failed client calls').toEqual([]);
  for (const partition of load.partitions) {
    const consumed = load.consumed.get(partition)!;
    const acked = load.acks.get(partition)!;
    const label = `${load.topic}-${partition}`;
    expect.soft(consumed.map((record) => record.offset), `${label}: consumed offsets (gap or repeat)`).toEqual(consumed.map((_, index) => index));
    expect.soft(consumed.length, `${label}: consumed up to the high watermark`).toBe(ends.get(partition));
    const misplaced = acked
      .filter(({ value, ack }) => ack.lastOffset !== ack.baseOffset || consumed[ack.baseOffset]?.value !== value)
      .map(({ value, ack }) => `${value} acknowledged at ${ack.baseOffset}-${ack.lastOffset}, consumed there: ${consumed[ack.baseOffset]?.value ?? 'nothing'}`);
    expect.soft(misplaced, `${label}: acknowledged records not at their acknowledged offset`).toEqual([]);
    const copies = new Map<string, ConsumerRecord[]>();
    for (const record of consumed) copies.set(record.value, [...(copies.get(record.value) ?? []), record]);
    const duplicated = [...copies].filter(([, records]) => records.length > 1);
    for (const [value, records] of duplicated) {
      const send = acked.find((candidate) => candidate.value === value);
      const attempts = send
        ? calls
            .filter((call) => call.role === 'produce' && call.partition === partition && call.startedAt >= send.sentAt && call.endedAt <= send.ackedAt)
            .map((call) => `${call.errorType ?? `ok ${call.leader}@${call.leaderEpoch}`} (asked epoch ${call.requestEpoch}, ${call.endedAt - call.startedAt} ms)`)
        : [];
      console.log(
        `[${tag}] DUPLICATE ${value}: ${records.map((record) => `offset ${record.offset} epoch ${record.leaderEpoch} appended ${new Date(record.appendedAt).toISOString()}`).join('; ')}; ` +
          `acknowledged at ${send?.ack.baseOffset ?? '?'}; its send's attempts: ${attempts.join(' -> ') || '?'}`,
      );
    }
    expect
      .soft(duplicated.map(([value, records]) => `${value} at offsets ${records.map((record) => record.offset).join(', ')}`), `${label}: record values at two offsets (a retried produce appended twice)`)
      .toEqual([]);
    // Every send was acknowledged (a failed one is reported above), so these are all the values sent.
    const sent = new Set(acked.map(({ value }) => value));
    expect.soft(consumed.filter((record) => !sent.has(record.value)).map((record) => record.value), `${label}: values never sent`).toEqual([]);
  }
}

export interface Unavailability {
  partition: number;
  fromEpoch: number;
  toEpoch: number;
  fromLeader: string;
  toLeader: string;
  /** Last successful call (either role) served at the old epoch → first served at the new one, in ms. */
  gapMs: number;
  produceGapMs?: number;
  consumeGapMs?: number;
}

/** For each partition whose epoch moved from `fromEpoch` to a later one: how long the clients went without a success. */
export function unavailability(calls: CallRecord[], partition: number, fromEpoch: number): Unavailability | undefined {
  const served = calls.filter((call) => call.partition === partition && call.leaderEpoch !== undefined);
  const gap = (role?: Role) => {
    const mine = served.filter((call) => role === undefined || call.role === role);
    const before = mine.filter((call) => call.leaderEpoch === fromEpoch);
    const after = mine.filter((call) => call.leaderEpoch! > fromEpoch);
    if (before.length === 0 || after.length === 0) return undefined;
    const lastOld = before.reduce((latest, call) => (call.endedAt > latest.endedAt ? call : latest));
    const firstNew = after.reduce((earliest, call) => (call.endedAt < earliest.endedAt ? call : earliest));
    return { lastOld, firstNew, ms: Math.max(0, firstNew.endedAt - lastOld.endedAt) };
  };
  const all = gap();
  if (!all) return undefined;
  return {
    partition,
    fromEpoch,
    toEpoch: all.firstNew.leaderEpoch!,
    fromLeader: all.lastOld.leader!,
    toLeader: all.firstNew.leader!,
    gapMs: all.ms,
    produceGapMs: gap('produce')?.ms,
    consumeGapMs: gap('consume')?.ms,
  };
}

/** The median time of a successful call of a role: the cadence the gaps compare with. */
export function medianLatencyMs(calls: CallRecord[], role: Role): number {
  const times = calls.filter((call) => call.role === role && call.errorType === undefined).map((call) => call.endedAt - call.startedAt).sort((a, b) => a - b);
  return times.length === 0 ? 0 : times[Math.floor(times.length / 2)];
}

/**
 * Sends acknowledged at an offset whose record was appended under an earlier leader epoch
 * than the one that acknowledged it: a retry the idempotent producer answered with the
 * original offset instead of appending again.
 */
export function retriedSendsKeptAtTheirFirstAppend(load: ClientLoad): string[] {
  return load.partitions.flatMap((partition) => {
    const consumed = load.consumed.get(partition)!;
    return load.acks
      .get(partition)!
      .filter(({ ack }) => consumed[ack.baseOffset] !== undefined && consumed[ack.baseOffset].leaderEpoch < ack.leaderEpoch)
      .map(({ value, ack }) => `${value} at ${ack.baseOffset} (appended at epoch ${consumed[ack.baseOffset].leaderEpoch}, acknowledged at ${ack.leaderEpoch})`);
  });
}

export function retrySummary(retries: RetrySeen[]): string {
  const counts = new Map<string, number>();
  for (const { role, partition, errorType } of retries) {
    const key = `${role} p${partition} ${errorType}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts.size === 0 ? 'none' : [...counts].map(([key, count]) => `${key} x${count}`).join(', ');
}

/**
 * The longest time a partition went without a successful call (either role) around a
 * window: from the last success before `from` to the first after `to`, the largest
 * interval between consecutive successes. For partitions whose epoch did not move.
 */
export function longestSilenceMs(calls: CallRecord[], partition: number, from: number, to: number): number {
  const ends = calls
    .filter((call) => call.partition === partition && call.leaderEpoch !== undefined)
    .map((call) => call.endedAt)
    .sort((a, b) => a - b);
  let start = 0;
  ends.forEach((end, index) => {
    if (end <= from) start = index;
  });
  const stopAt = ends.findIndex((end) => end >= to);
  const stop = stopAt < 0 ? ends.length - 1 : stopAt;
  let longest = 0;
  for (let index = start + 1; index <= stop; index += 1) longest = Math.max(longest, ends[index] - ends[index - 1]);
  return longest;
}
