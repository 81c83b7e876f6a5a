import type { ErrorName } from '../protocol/errors.js';
import { RemoteFunctionError, type LeadershipClient, type ProduceResponse } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { ClientError, withRetries, type RetryOptions } from './retry.js';

export interface ProducerRecord {
  key?: string | null;
  value: string;
}

export interface SendOptions {
  /**
   * "all" (default, Kafka's default since 3.0): acknowledged once every ISR member has the
   * records; 1: once the leader has; 0: not acknowledged at all: the produce is queued
   * (an asynchronous invocation) and the metadata answered has offsets -1, as Kafka's.
   */
  acks?: 'all' | 1 | 0;
}

export interface ProducerOptions extends RetryOptions {
  /** Kafka's delivery.timeout.ms: how long one send may take, retries and backoffs included (default 120 000). */
  deliveryTimeoutMs?: number;
  /**
   * Kafka's enable.idempotence (default true): acks=all sends carry a producer id, epoch and
   * per-partition sequence, so a retried send is written once. As in Kafka it needs
   * acks=all: sends with acks 1 or 0 are not idempotent.
   */
  enableIdempotence?: boolean;
  /**
   * Kafka's linger.ms (default 5): how long a send waits for more sends to the same partition
   * to share its produce call. Sends queued behind a batch in flight keep gathering until it is
   * answered. 0 sends every call's records in a produce of their own, as they were given.
   */
  lingerMs?: number;
  /**
   * Kafka's batch.size (default 16 384): the key and value bytes (UTF-8, as the produce
   * function counts them) one produce call gathers from several sends. A send larger than
   * this goes in a call of its own; a send's records are never split across calls.
   */
  batchSizeBytes?: number;
}

/** The most records one produce call carries (functions/domain/limits.ts MAX_RECORDS_PER_PRODUCE, which the function checks). */
export const MAX_RECORDS_PER_PRODUCE = 500;
/** The most key and value bytes of one record (functions/domain/limits.ts MAX_RECORD_BYTES, which the function checks). */
export const MAX_RECORD_BYTES = 32 * 1024;

/**
 * The largest batch.size: a gathered call stays well under the 6 MB a synchronous Lambda
 * invocation may carry, JSON's quoting of the records included.
 */
export const MAX_BATCH_SIZE_BYTES = 4 * 1024 * 1024;

/** Key and value bytes of a record, as the produce function counts them. */
export const recordBytes = (record: ProducerRecord): number => Buffer.byteLength(record.value) + (record.key ? Buffer.byteLength(record.key) : 0);

/** A send after close(). */
export class ProducerClosedError extends ClientError {
  constructor() {
    super('the producer is closed');
    this.name = 'ProducerClosedError';
  }
}

export type RecordMetadata = ProduceResponse;

interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/** Kafka's int32 sequences: after 2^31-1 comes 0 (DefaultRecordBatch.incrementSequence), as the leaders expect. */
const SEQUENCE_SPACE = 2 ** 31;

/** The sequence `increment` records after `sequence`, wrapping as Kafka's does. */
export const incrementSequence = (sequence: number, increment: number): number => (sequence + increment) % SEQUENCE_SPACE;

/**
 * The highest producer epoch (Kafka's int16); past it the producer takes a new producer id
 * (functions/domain/limits.ts MAX_PRODUCER_EPOCH, which the leaders check).
 */
const MAX_PRODUCER_EPOCH = 2 ** 15 - 1;

/** One caller's send, waiting in a batch for its share of the batch's answer. */
interface PendingSend {
  /** Where its records start in the batch. */
  index: number;
  count: number;
  resolve: (ack: RecordMetadata) => void;
  reject: (error: unknown) => void;
}

/** Sends to one partition gathered into one produce call (Kafka's ProducerBatch). */
interface Batch {
  acks: 'all' | 1;
  records: ProducerRecord[];
  bytes: number;
  sends: PendingSend[];
  /** Takes no more sends: full, followed by another batch, or flushed. */
  closed: boolean;
  /** Its linger passed. */
  expired: boolean;
  timer?: ReturnType<typeof setTimeout>;
  done: Promise<void>;
  settle: () => void;
}

/** A partition's batches not yet sent, oldest first, and whether one is in flight. */
interface PartitionQueue {
  topic: string;
  partition: number;
  batches: Batch[];
  sending: boolean;
}

/** What the produce function accepts of one record (functions/domain/requests.ts expectRecord). */
const isWellFormed = (record: ProducerRecord): boolean =>
  typeof record === 'object' &&
  record !== null &&
  typeof record.value === 'string' &&
  (record.key === undefined || record.key === null || typeof record.key === 'string') &&
  recordBytes(record) <= MAX_RECORD_BYTES;

/** Answers after which the producer's sequence cannot go on: it bumps its epoch and starts from sequence 0. */
const SEQUENCE_FATAL: ReadonlySet<string> = new Set([
  'OutOfOrderSequenceError',
  'InvalidProducerEpochError',
  'UnknownProducerIdError',
  'DuplicateSequenceError',
] satisfies ErrorName[]);

/**
 * Sends records to a partition's leader through the produce function.
 *
 * It names the leader epoch it believes current, so a produce never lands under a leader
 * it did not mean; on a retriable error (stale epoch, no leader yet, ISR too small, a
 * timeout, a Lambda or network fault) it drops the partition's metadata, backs off
 * exponentially, describes the partition again and resends, until `deliveryTimeoutMs`.
 * Only final errors (ValidationError, UnknownTopicError, OutOfOrderSequenceError, ...) and
 * ClientTimeoutError reach the caller.
 *
 * Idempotent (the default, with acks=all): the producer gets a producer id from
 * InitProducerId on its first send, numbers each partition's records from sequence 0, and
 * resends a failed batch with the same sequence; the leader answers a batch it already
 * holds with the original offsets (`duplicate: true`). So a send acknowledged after any
 * number of retries is in the log exactly once, and one producer's sends to a partition
 * are in the order they were made (they go one at a time per partition, Kafka's
 * max.in.flight.requests.per.connection = 1). A send that finally fails leaves its batch's
 * fate unknown, so the producer then bumps its epoch on the same producer id and starts
 * every partition from sequence 0 (KIP-360: an idempotent producer bumps its own epoch).
 * A late copy of the given-up request is then fenced by any leader the new epoch has
 * written to (INVALID_PRODUCER_EPOCH), so it cannot land after the producer's later sends;
 * a new producer id would not fence it. Past the highest epoch it takes a new producer id.
 * Without idempotence delivery is at least once: a retry after a lost answer
 * appends the records again.
 *
 * Batching (Kafka's RecordAccumulator): sends to a partition within `lingerMs` of each other,
 * or made while its previous batch is in flight, share one produce call of up to
 * `batchSizeBytes`, because each call pays the log's write transactions on every replica
 * whatever it carries. A batch is one unit for everything above: it takes its sequence when
 * it is sent, is retried whole, and its answer or error goes to every send in it.
 */
export class Producer {
  readonly metadata: MetadataCache;
  private readonly deliveryTimeoutMs: number;
  private readonly idempotent: boolean;
  private identity: Promise<ProducerIdentity> | undefined;
  /** Per partition: the sequence of the next new batch, under the current identity. */
  private readonly nextSequence = new Map<string, number>();
  /** Per partition: the tail of its queue of sends (one in flight at a time). */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly lingerMs: number;
  private readonly batchSizeBytes: number;
  /** Per partition: the batches gathering or waiting for the one in flight (lingerMs > 0). */
  private readonly accumulator = new Map<string, PartitionQueue>();
  private closed = false;

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ProducerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
    this.idempotent = options.enableIdempotence ?? true;
    this.lingerMs = options.lingerMs ?? 5;
    this.batchSizeBytes = options.batchSizeBytes ?? 16_384;
    if (!Number.isFinite(this.lingerMs) || this.lingerMs < 0) throw new ClientError(`lingerMs must be a number >= 0, got ${this.lingerMs}`);
    if (!Number.isInteger(this.batchSizeBytes) || this.batchSizeBytes < 1 || this.batchSizeBytes > MAX_BATCH_SIZE_BYTES) {
      throw new ClientError(`batchSizeBytes must be an integer from 1 to ${MAX_BATCH_SIZE_BYTES}, got ${this.batchSizeBytes}`);
    }
  }

  /** The producer id and epoch in use (idempotent producers, after their first send). */
  async producerIdentity(): Promise<ProducerIdentity | undefined> {
    return this.identity?.catch(() => undefined);
  }

  /**
   * Sends records to a partition and answers with their offsets once acknowledged. With
   * lingerMs > 0 (Kafka's default) the records may share a produce call with other sends to
   * the partition; the answer still names only these records' offsets.
   */
  async send(topic: string, partition: number, records: ProducerRecord[], sendOptions: SendOptions = {}): Promise<RecordMetadata> {
    if (this.closed) throw new ProducerClosedError();
    const acks = sendOptions.acks ?? 'all';
    if (acks === 0) return this.sendWithoutAck(topic, partition, records);
    if (this.lingerMs <= 0) return this.sendBatch(topic, partition, records, acks);
    return new Promise<RecordMetadata>((resolve, reject) => this.accumulate(topic, partition, records, acks, resolve, reject));
  }

  /** Sends everything gathered so far at once and resolves when all of it is answered (its errors go to the sends). */
  async flush(): Promise<void> {
    const pending: Array<Promise<void>> = [];
    for (const [key, queue] of this.accumulator) {
      for (const batch of queue.batches) {
        batch.closed = true;
        pending.push(batch.done);
      }
      this.drain(key);
    }
    await Promise.all([...pending, ...[...this.inFlight.values()].map((sent) => sent.then(() => undefined, () => undefined))]);
  }

  /** Refuses later sends and flushes what was gathered (Kafka's close). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** One produce call's records, after the partition's previous call was answered (one in flight per partition). */
  private async sendBatch(topic: string, partition: number, records: ProducerRecord[], acks: 'all' | 1): Promise<RecordMetadata> {
    const key = `${topic}-${partition}`;
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const sent = previous.catch(() => undefined).then(() => this.sendInOrder(topic, partition, records, acks));
    this.inFlight.set(key, sent);
    try {
      return await sent;
    } finally {
      if (this.inFlight.get(key) === sent) this.inFlight.delete(key);
    }
  }

  /** Kafka's RecordAccumulator.append: into the partition's last open batch if the send fits whole, else a new batch. */
  private accumulate(
    topic: string,
    partition: number,
    records: ProducerRecord[],
    acks: 'all' | 1,
    resolve: (ack: RecordMetadata) => void,
    reject: (error: unknown) => void,
  ): void {
    const key = `${topic}-${partition}`;
    let queue = this.accumulator.get(key);
    if (!queue) {
      queue = { topic, partition, batches: [], sending: false };
      this.accumulator.set(key, queue);
    }
    // A send the function would refuse goes alone, so its refusal reaches only its caller, as without batching.
    const alone = records.length === 0 || !records.every(isWellFormed);
    const bytes = alone ? 0 : records.reduce((sum, record) => sum + recordBytes(record), 0);
    const last = queue.batches.at(-1);
    const fits =
      last !== undefined &&
      !last.closed &&
      !alone &&
      last.acks === acks &&
      last.records.length + records.length <= MAX_RECORDS_PER_PRODUCE &&
      last.bytes + bytes <= this.batchSizeBytes;
    let batch: Batch;
    if (fits) {
      batch = last;
    } else {
      if (last) last.closed = true;
      batch = this.newBatch(key, acks);
      queue.batches.push(batch);
      if (alone) batch.closed = true;
    }
    batch.sends.push({ index: batch.records.length, count: records.length, resolve, reject });
    batch.records.push(...records);
    batch.bytes += bytes;
    if (batch.records.length >= MAX_RECORDS_PER_PRODUCE || batch.bytes >= this.batchSizeBytes) batch.closed = true;
    this.drain(key);
  }

  private newBatch(key: string, acks: 'all' | 1): Batch {
    let settle = (): void => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const batch: Batch = { acks, records: [], bytes: 0, sends: [], closed: false, expired: false, done, settle };
    batch.timer = setTimeout(() => {
      batch.expired = true;
      this.drain(key);
    }, this.lingerMs);
    return batch;
  }

  /** Sends the partition's oldest batch once it is ready (full, lingered or flushed) and none of the partition's is in flight. */
  private drain(key: string): void {
    const queue = this.accumulator.get(key);
    if (!queue || queue.sending) return;
    const batch = queue.batches[0];
    if (!batch) {
      this.accumulator.delete(key);
      return;
    }
    if (!batch.closed && !batch.expired) return;
    queue.batches.shift();
    queue.sending = true;
    clearTimeout(batch.timer);
    // The batch gets its sequence now, when it is sent; its retries resend it whole under that sequence.
    this.sendBatch(queue.topic, queue.partition, batch.records, batch.acks)
      .then(
        (ack) => {
          for (const send of batch.sends) {
            send.resolve({ ...ack, baseOffset: ack.baseOffset + send.index, lastOffset: ack.baseOffset + send.index + send.count - 1 });
          }
        },
        (error: unknown) => {
          for (const send of batch.sends) send.reject(error);
        },
      )
      .finally(() => {
        queue.sending = false;
        batch.settle();
        this.drain(key);
      });
  }

  private async sendInOrder(topic: string, partition: number, records: ProducerRecord[], acks: 'all' | 1): Promise<RecordMetadata> {
    const key = `${topic}-${partition}`;
    const idempotent = this.idempotent && acks === 'all';
    const current = idempotent ? this.currentIdentity() : undefined;
    const identity = current ? await current : undefined;
    const baseSequence = identity ? (this.nextSequence.get(key) ?? 0) : undefined;
    try {
      const ack = await withRetries(
        `produce to ${key}`,
        this.deliveryTimeoutMs,
        this.options,
        async () => {
          const leadership = await this.leaderOf(topic, partition);
          const ack = await this.client.produce({
            topic,
            partition,
            records,
            leaderEpoch: leadership.leaderEpoch,
            acks,
            ...(identity ? { ...identity, baseSequence } : {}),
          });
          this.metadata.observe(topic, partition, ack.leader, ack.leaderEpoch);
          return ack;
        },
        (error) => this.metadata.afterFailure(topic, partition, error),
      );
      // A send that began under an identity since bumped leaves the new epoch's sequences alone.
      if (identity && baseSequence !== undefined && this.identity === current) {
        this.nextSequence.set(key, incrementSequence(baseSequence, records.length));
      }
      return ack;
    } catch (error) {
      // The batch may or may not be in the log (a timeout), or the sequence broke: continuing it could
      // duplicate or refuse every later batch, so the next send starts a new epoch.
      if (current && identity && (!(error instanceof RemoteFunctionError) || SEQUENCE_FATAL.has(error.errorType))) {
        this.bumpEpoch(current, identity);
      }
      throw error;
    }
  }

  private async sendWithoutAck(topic: string, partition: number, records: ProducerRecord[]): Promise<RecordMetadata> {
    const leadership = await withRetries(
      `look up the leader of ${topic}-${partition}`,
      this.deliveryTimeoutMs,
      this.options,
      () => this.leaderOf(topic, partition),
      (error) => this.metadata.afterFailure(topic, partition, error),
    );
    await this.client.produceWithoutAck({ topic, partition, records, leaderEpoch: leadership.leaderEpoch });
    return { topic, partition, leader: leadership.leader, leaderEpoch: leadership.leaderEpoch, baseOffset: -1, lastOffset: -1, highWatermark: -1 };
  }

  private async leaderOf(topic: string, partition: number): Promise<{ leader: string; leaderEpoch: number }> {
    const leadership = await this.metadata.leadership(topic, partition);
    if (leadership.leader === null) {
      throw new RemoteFunctionError(this.client.functionName('describe'), 'PartitionOfflineError' satisfies ErrorName, `partition ${topic}-${partition} has no leader`);
    }
    return { leader: leadership.leader, leaderEpoch: leadership.leaderEpoch };
  }

  private currentIdentity(): Promise<ProducerIdentity> {
    if (!this.identity) {
      const identity = withRetries('InitProducerId', this.deliveryTimeoutMs, this.options, () => this.client.initProducerId());
      this.identity = identity;
      identity.catch(() => {
        if (this.identity === identity) this.identity = undefined;
      });
    }
    return this.identity;
  }

  /** Once per failed identity: sends that failed under it together bump it once. */
  private bumpEpoch(failed: Promise<ProducerIdentity>, identity: ProducerIdentity): void {
    if (this.identity !== failed) return;
    this.nextSequence.clear();
    this.identity =
      identity.producerEpoch < MAX_PRODUCER_EPOCH
        ? Promise.resolve({ producerId: identity.producerId, producerEpoch: identity.producerEpoch + 1 })
        : undefined;
  }
}
