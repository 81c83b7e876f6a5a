import type { DescribeResponse, InvokeOutcome, LambdaTransport, StorageMode } from '../../../client/lambda-client.js';
import type { Clock } from '../../../client/retry.js';
import type { LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { FUNCTION_PROTOCOL, type FunctionOutput } from '../../../protocol/functions.js';

/** "InitProducerIdFunctionName" -> "init-producer-id-fn". */
const fakeFunctionName = (output: FunctionOutput): string =>
  `${output.replace(/FunctionName$/, '').replace(/[a-z](?=[A-Z])/g, (letter) => `${letter}-`).toLowerCase()}-fn`;

/** Every output the protocol derives: a function added there gets a fake name without an edit here. */
export const fakeOutputs: LeadershipStackOutputs = {
  ...(Object.fromEntries(Object.values(FUNCTION_PROTOCOL).map(({ output }) => [output, fakeFunctionName(output)])) as Record<FunctionOutput, string>),
  BrokersTableName: 'brokers',
  MetadataTableName: 'metadata',
  LogTableName: 'log',
  LeadershipEventsQueueUrl: 'http://queue',
  ObjectsBucketName: 'objects-bucket',
};

interface FakePartition {
  leader: string | null;
  leaderEpoch: number;
  records: Array<{ key: string | null; value: string; leaderEpoch: number }>;
}

/** What the next call to a function does instead of its normal answer. */
export type Fault = { errorType: string; message?: string } | { throws: Error } | { afterAppend: { errorType: string } };

/** What the next batch for a partition gets instead of its normal answer, inside a call that goes on for the others. */
export type BatchFault = { errorType: string; message?: string } | { afterAppend: { errorType: string } };

/**
 * A fake Lambda API over one in-memory topic: describe, produce (epoch-checked, as the
 * functions check it) of one batch or of several partitions' batches in one call (each
 * answered or refused on its own), and consume, of one partition or a fetch of many (below
 * the high watermark = every appended record). Faults are queued per function (a whole call)
 * and per partition (one batch); every call is recorded. No network.
 */
export class FakeLambda {
  readonly calls: Array<{ functionName: string; payload: Record<string, unknown>; invocationType?: string }> = [];
  private lastProducerId = 0;
  /** Per producer id and partition: the offsets of each batch by base sequence, and the next sequence expected. */
  private readonly sequences = new Map<string, { epoch: number; next: number; batches: Map<number, { baseOffset: number; lastOffset: number }> }>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly batchFaults = new Map<number, BatchFault[]>();
  readonly partitions = new Map<number, FakePartition>();

  constructor(
    readonly topic: string,
    partitionCount: number,
    leader = 'A',
    readonly storage: StorageMode = 'replicated',
  ) {
    for (let partition = 1; partition <= partitionCount; partition += 1) this.partitions.set(partition, { leader, leaderEpoch: 0, records: [] });
  }

  /** Drops the faults still queued for a function. */
  clearFaults(functionName: string): void {
    this.faults.delete(functionName);
  }

  failNext(functionName: string, ...faults: Fault[]): void {
    this.faults.set(functionName, [...(this.faults.get(functionName) ?? []), ...faults]);
  }

  /** The next batches produced to the partition (alone or in a call of several) get these answers instead. */
  failNextBatch(partition: number, ...faults: BatchFault[]): void {
    this.batchFaults.set(partition, [...(this.batchFaults.get(partition) ?? []), ...faults]);
  }

  /** A failover: a new leader, epoch + 1 (null = offline, epoch + 1 too). */
  elect(partition: number, leader: string | null): void {
    const state = this.partitions.get(partition)!;
    state.leader = leader;
    state.leaderEpoch += 1;
  }

  append(partition: number, ...values: string[]): void {
    const state = this.partitions.get(partition)!;
    for (const value of values) state.records.push({ key: null, value, leaderEpoch: state.leaderEpoch });
  }

  callsTo(functionName: string) {
    return this.calls.filter((call) => call.functionName === functionName);
  }

  readonly transport: LambdaTransport = (functionName, payloadText, options) => {
    const payload = JSON.parse(payloadText) as Record<string, unknown>;
    this.calls.push({ functionName, payload, ...(options?.invocationType ? { invocationType: options.invocationType } : {}) });
    const fault = this.faults.get(functionName)?.shift();
    if (fault && 'throws' in fault) return Promise.reject(fault.throws);
    if (fault && 'errorType' in fault) return Promise.resolve(failure(fault.errorType, fault.message ?? 'injected'));
    try {
      const result = this.handle(functionName, payload);
      if (fault && 'afterAppend' in fault) return Promise.resolve(failure(fault.afterAppend.errorType, 'after append'));
      return Promise.resolve({ payload: JSON.stringify(result) });
    } catch (error) {
      const named = error as Error;
      return Promise.resolve(failure(named.name, named.message));
    }
  };

  private handle(functionName: string, payload: Record<string, unknown>): unknown {
    switch (functionName) {
      case fakeOutputs.DescribeFunctionName:
        return this.describe(payload.topic as string | undefined);
      case fakeOutputs.InitProducerIdFunctionName:
        this.lastProducerId += 1;
        return { producerId: this.lastProducerId, producerEpoch: 0 };
      case fakeOutputs.ProduceFunctionName: {
        if (!Array.isArray(payload.batches)) return this.produceOne(payload);
        // Kafka's ProduceRequest: each batch answered or refused on its own, as the produce function does.
        return {
          results: (payload.batches as Array<Record<string, unknown>>).map((batch) => {
            try {
              return this.produceOne({ ...batch, acks: payload.acks });
            } catch (error) {
              const refusal = error as Error;
              return { topic: batch.topic, partition: batch.partition, errorType: refusal.name, errorMessage: refusal.message };
            }
          }),
        };
      }
      case fakeOutputs.ConsumeFunctionName: {
        if (!Array.isArray(payload.partitions)) return this.consumeOne(payload);
        // A fetch: each partition answered or refused on its own, as the consume function does.
        return {
          partitions: (payload.partitions as Array<Record<string, unknown>>).map((asked) => {
            try {
              return this.consumeOne(asked);
            } catch (error) {
              const refusal = error as Error;
              return { topic: asked.topic, partition: asked.partition, errorType: refusal.name, errorMessage: refusal.message };
            }
          }),
        };
      }
      case fakeOutputs.RegisterBrokerFunctionName:
        return { brokerId: payload.brokerId, credential: payload.credential ?? `generated-credential-of-${String(payload.brokerId)}`, rotated: false };
      case fakeOutputs.HeartbeatFunctionName:
        if (typeof payload.credential !== 'string') throw named('BrokerAuthenticationError', 'the request carries no "credential"');
        return { brokerId: payload.brokerId, incarnation: 1, deadlineMs: 6000, expiresAt: 6, rejoined: false, sweptBrokers: [] };
      case fakeOutputs.CreateTopicFunctionName:
        return { topic: payload.topic, partitions: payload.partitions, replicationFactor: payload.replicationFactor, minInsyncReplicas: 1, uncleanLeaderElection: false, compressionType: payload.compressionType ?? 'producer', storage: payload.storage ?? 'replicated', assignments: this.describe(this.topic).topics[0].partitions };
      default:
        throw named('ResourceNotFoundException', `Function not found: ${functionName}`);
    }
  }

  private produceOne(payload: Record<string, unknown>): Record<string, unknown> {
    const fault = typeof payload.partition === 'number' ? this.batchFaults.get(payload.partition)?.shift() : undefined;
    if (fault && 'errorType' in fault) throw named(fault.errorType, fault.message ?? 'injected');
    const ack = this.appendBatch(payload);
    if (fault) throw named(fault.afterAppend.errorType, 'after append');
    return ack;
  }

  private appendBatch(payload: Record<string, unknown>): Record<string, unknown> {
    const state = this.requireLeader(payload);
    const records = payload.records as Array<{ key?: string | null; value: string }>;
    const baseOffset = state.records.length;
    if (typeof payload.producerId === 'number') {
      // The leader's sequence check, as the produce function applies it: an older epoch is
      // fenced, a newer one starts over from sequence 0.
      const key = `${payload.producerId}/${String(payload.partition)}`;
      const epoch = payload.producerEpoch as number;
      const known = this.sequences.get(key);
      if (known && epoch < known.epoch) throw named('InvalidProducerEpochError', `epoch ${epoch} is older than ${known.epoch}`);
      const producer = known && epoch === known.epoch ? known : { epoch, next: 0, batches: new Map<number, { baseOffset: number; lastOffset: number }>() };
      const sequence = payload.baseSequence as number;
      const original = producer.batches.get(sequence);
      if (original) return { topic: this.topic, partition: payload.partition, leader: state.leader, leaderEpoch: state.leaderEpoch, ...original, highWatermark: state.records.length, duplicate: true };
      if (sequence !== producer.next) throw named('OutOfOrderSequenceError', `expected sequence ${producer.next}, got ${sequence}`);
      producer.batches.set(sequence, { baseOffset, lastOffset: baseOffset + records.length - 1 });
      producer.next = (producer.next + records.length) % 2 ** 31;
      this.sequences.set(key, producer);
    }
    for (const record of records) state.records.push({ key: record.key ?? null, value: record.value, leaderEpoch: state.leaderEpoch });
    return { topic: this.topic, partition: payload.partition, leader: state.leader, leaderEpoch: state.leaderEpoch, baseOffset, lastOffset: state.records.length - 1, highWatermark: state.records.length };
  }

  private consumeOne(payload: Record<string, unknown>) {
    const state = this.requireLeader(payload);
    const offset = (payload.offset as number | undefined) ?? 0;
    if (offset > state.records.length) throw named('OffsetOutOfRangeError', `offset ${offset} is beyond the high watermark ${state.records.length}`);
    const end = Math.min(state.records.length, offset + ((payload.maxRecords as number | undefined) ?? 100));
    const records = state.records.slice(offset, end).map((record, index) => ({ offset: offset + index, appendedAt: 0, ...record }));
    return { topic: this.topic, partition: payload.partition, leader: state.leader, leaderEpoch: state.leaderEpoch, highWatermark: state.records.length, records, nextOffset: offset + records.length };
  }

  /** Every partition the consume function was asked for, one entry per partition of each fetch (or consume), in call order. */
  consumedPartitions(): Array<Record<string, unknown>> {
    return this.callsTo(fakeOutputs.ConsumeFunctionName).flatMap(({ payload }) =>
      Array.isArray(payload.partitions) ? (payload.partitions as Array<Record<string, unknown>>) : [payload],
    );
  }

  private requireLeader(payload: Record<string, unknown>): FakePartition {
    if (payload.topic !== this.topic) throw named('UnknownTopicError', `topic "${String(payload.topic)}" does not exist`);
    if (typeof payload.partition !== 'number') throw named('ValidationError', '"partition" must be an integer');
    const state = this.partitions.get(payload.partition);
    if (!state) throw named('UnknownTopicError', `partition ${payload.partition} does not exist`);
    if (state.leader === null) throw named('PartitionOfflineError', 'no leader');
    if (payload.leaderEpoch !== undefined && payload.leaderEpoch !== state.leaderEpoch) throw named('StaleEpochError', `leader epoch ${JSON.stringify(payload.leaderEpoch)} is not current`);
    return state;
  }

  describe(topic?: string): DescribeResponse {
    if (topic !== undefined && topic !== this.topic) throw named('UnknownTopicError', `topic "${topic}" does not exist`);
    return {
      topics: [
        {
          topic: this.topic,
          partitionCount: this.partitions.size,
          replicationFactor: 2,
          minInsyncReplicas: 1,
          uncleanLeaderElection: false,
          compressionType: 'producer',
          storage: this.storage,
          partitions: [...this.partitions].map(([partition, state]) => ({
            Topic: this.topic,
            Partition: partition,
            Leader: state.leader,
            Replicas: ['A', 'B'],
            Isr: state.leader ? [state.leader] : ['A'],
            LeaderEpoch: state.leaderEpoch,
            HighWatermark: state.records.length,
            State: state.leader ? 'ONLINE' : 'OFFLINE',
          })),
        },
      ],
      brokers: [{ brokerId: 'A', incarnation: 1, lastHeartbeatAt: 0, deadlineMs: 6000, alive: true }],
    };
  }
}

/**
 * A transport over the fake whose produce answers can be held back (to keep batches in flight),
 * recording every produce payload as it was invoked, held back or not.
 */
export function holdableProduce(lambda: FakeLambda) {
  let gate: Promise<void> | undefined;
  let open = (): void => undefined;
  const invoked: Array<Record<string, unknown>> = [];
  const transport: LambdaTransport = async (functionName, payload, invokeOptions) => {
    if (functionName === fakeOutputs.ProduceFunctionName) {
      invoked.push(JSON.parse(payload) as Record<string, unknown>);
      if (gate) await gate;
    }
    return lambda.transport(functionName, payload, invokeOptions);
  };
  return {
    transport,
    invoked,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
}

function failure(errorType: string, errorMessage: string): InvokeOutcome {
  return { functionError: 'Unhandled', payload: JSON.stringify({ errorType, errorMessage }) };
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A virtual clock: sleeping advances it, instantly. */
export class FakeClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

export function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code });
}
