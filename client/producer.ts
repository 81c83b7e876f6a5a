import type { ErrorName } from '../protocol/errors.js';
import type { StorageMode } from '../protocol/messages.js';
import { isFunctionError, RemoteFunctionError, type LeadershipClient, type ProduceRequest, type ProduceResponse } from './lambda-client.js';
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
  /**
   * How long a batch for a diskless topic gathers (default 250, WarpStream's batch timeout):
   * the diskless mode's flush bound. Each flush writes one object to S3 (one PUT for all the
   * diskless partitions' batches it carries), so it sets what a record costs against the
   * acks=all latency it adds. When one diskless batch is due, every diskless partition's
   * gathered batch goes with it, in one call. lingerMs and batchSizeBytes apply to
   * replicated topics only.
   */
  disklessLingerMs?: number;
  /**
   * The most one produce call carries for diskless topics (default and at most
   * MAX_CALL_BYTES, 4 MiB: under the 6 MB a synchronous Lambda invocation may carry): the
   * object's size bound. Once the diskless batches gathered reach it they are sent without
   * waiting for disklessLingerMs. Counted as key and value bytes plus RECORD_CALL_OVERHEAD_BYTES
   * a record.
   */
  disklessCallBytes?: number;
}

/** disklessLingerMs's default: WarpStream's batch timeout, the diskless mode's flush bound. */
export const DEFAULT_DISKLESS_LINGER_MS = 250;

/** The most records one produce call carries (functions/domain/limits.ts MAX_RECORDS_PER_PRODUCE, which the function checks). */
export const MAX_RECORDS_PER_PRODUCE = 500;
/** The most key and value bytes of one record (functions/domain/limits.ts MAX_RECORD_BYTES, which the function checks). */
export const MAX_RECORD_BYTES = 32 * 1024;

/**
 * The largest batch.size: a gathered call stays well under the 6 MB a synchronous Lambda
 * invocation may carry, JSON's quoting of the records included.
 */
export const MAX_BATCH_SIZE_BYTES = 4 * 1024 * 1024;

/**
 * The most one produce call of several batches carries: their key and value bytes plus
 * RECORD_CALL_OVERHEAD_BYTES a record, under the 6 MB of a synchronous invocation.
 */
export const MAX_CALL_BYTES = 4 * 1024 * 1024;
/** What a record adds to a call besides its key and value (its JSON's names and quotes, about). */
export const RECORD_CALL_OVERHEAD_BYTES = 64;
/**
 * The most batches (partitions) one produce call carries (as the consume function's
 * MAX_PARTITIONS_PER_FETCH bounds a fetch).
 */
export const MAX_BATCHES_PER_CALL = 1000;

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

/** Sends to one partition gathered into one batch of a produce call (Kafka's ProducerBatch). */
interface Batch {
  acks: 'all' | 1;
  records: ProducerRecord[];
  bytes: number;
  /** A send the function would refuse: it goes in a call of its own. */
  alone: boolean;
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
  diskless: boolean;
  batches: Batch[];
  sending: boolean;
}

/** A send waiting for its topic's storage mode (the first sends to a topic), in the order made. */
interface WaitingSend {
  partition: number;
  records: ProducerRecord[];
  acks: 'all' | 1;
  resolve: (ack: RecordMetadata) => void;
  reject: (error: unknown) => void;
}

/** One batch's attempt, waiting for the produce call it goes in. */
interface CallEntry {
  batch: Omit<ProduceRequest, 'acks'>;
  bytes: number;
  /** The most bytes a call carrying this batch may hold. */
  bound: number;
  resolve: (ack: ProduceResponse) => void;
  reject: (error: unknown) => void;
}

/** Attempts gathered into the next produce call, of one acks (a call names one for all its batches). */
interface PendingCall {
  acks: 'all' | 1;
  entries: CallEntry[];
  bytes: number;
}

/** A batch's size in a call: its key and value bytes and each record's share of the JSON around them. */
const callBytes = (records: number, bytes: number): number => bytes + records * RECORD_CALL_OVERHEAD_BYTES;

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
 * or made while its previous batch is in flight, share one batch of up to `batchSizeBytes`,
 * because each batch pays the log's writes on every replica whatever it carries. A batch is
 * one unit for everything above: it takes its sequence when it is sent, is retried whole, and
 * its answer or error goes to every send in it.
 *
 * Calls (Kafka's Sender, one ProduceRequest per broker): the batches of several partitions
 * that are ready at once go in one produce call (a ProduceBatchesRequest), each acknowledged or
 * refused on its own; a refusal is handled exactly as the error a produce of that batch alone
 * would have thrown, so retries, the leader hint, idempotence and the one batch in flight are
 * per partition as before. A diskless topic's batches gather for `disklessLingerMs` (or until
 * `disklessCallBytes`) and then all go together, so one flush is one object in S3.
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
  private readonly disklessLingerMs: number;
  private readonly disklessCallBytes: number;
  /** Per partition: the batches gathering or waiting for the one in flight (lingerMs > 0). */
  private readonly accumulator = new Map<string, PartitionQueue>();
  /** Per topic whose storage mode is being looked up: the sends waiting for it, and the lookup. */
  private readonly awaitingStorage = new Map<string, { sends: WaitingSend[]; done: Promise<void> }>();
  /** Set while every partition's next batch of one storage mode is being sent at once. */
  private drainingAll = false;
  /** Per acks: the attempts gathered for the next produce call, sent once the current turn of the event loop is over. */
  private readonly pendingCalls = new Map<'all' | 1, PendingCall>();
  private callsScheduled = false;
  /** The produce function refused a call of several batches as malformed: it predates them, so each batch goes alone. */
  private singleBatchCalls = false;
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
    this.disklessLingerMs = options.disklessLingerMs ?? DEFAULT_DISKLESS_LINGER_MS;
    this.disklessCallBytes = options.disklessCallBytes ?? MAX_CALL_BYTES;
    if (!Number.isFinite(this.lingerMs) || this.lingerMs < 0) throw new ClientError(`lingerMs must be a number >= 0, got ${this.lingerMs}`);
    if (!Number.isInteger(this.batchSizeBytes) || this.batchSizeBytes < 1 || this.batchSizeBytes > MAX_BATCH_SIZE_BYTES) {
      throw new ClientError(`batchSizeBytes must be an integer from 1 to ${MAX_BATCH_SIZE_BYTES}, got ${this.batchSizeBytes}`);
    }
    if (!Number.isFinite(this.disklessLingerMs) || this.disklessLingerMs < 0) throw new ClientError(`disklessLingerMs must be a number >= 0, got ${this.disklessLingerMs}`);
    if (!Number.isInteger(this.disklessCallBytes) || this.disklessCallBytes < 1 || this.disklessCallBytes > MAX_CALL_BYTES) {
      throw new ClientError(`disklessCallBytes must be an integer from 1 to ${MAX_CALL_BYTES}, got ${this.disklessCallBytes}`);
    }
  }

  /** The producer id and epoch in use (idempotent producers, after their first send). */
  async producerIdentity(): Promise<ProducerIdentity | undefined> {
    return this.identity?.catch(() => undefined);
  }

  /**
   * Sends records to a partition and answers with their offsets once acknowledged. With
   * lingerMs > 0 (Kafka's default) the records may share a batch with other sends to the
   * partition, and the batch a produce call with other partitions' batches; the answer still
   * names only these records' offsets.
   */
  async send(topic: string, partition: number, records: ProducerRecord[], sendOptions: SendOptions = {}): Promise<RecordMetadata> {
    if (this.closed) throw new ProducerClosedError();
    const acks = sendOptions.acks ?? 'all';
    if (acks === 0) return this.sendWithoutAck(topic, partition, records);
    if (this.lingerMs <= 0) return this.sendBatch(topic, partition, records, acks, undefined);
    return new Promise<RecordMetadata>((resolve, reject) => this.enqueue(topic, { partition, records, acks, resolve, reject }));
  }

  /** Sends everything gathered so far at once and resolves when all of it is answered (its errors go to the sends). */
  async flush(): Promise<void> {
    await Promise.all([...this.awaitingStorage.values()].map(({ done }) => done));
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

  /**
   * One batch's records, after the partition's previous batch was answered (one in flight per
   * partition). `gathered`: the batch goes in a produce call with the other partitions' batches
   * ready with it (its storage mode says how large that call may be); undefined: in a call of its own.
   */
  private async sendBatch(topic: string, partition: number, records: ProducerRecord[], acks: 'all' | 1, gathered: { callBound: number } | undefined): Promise<RecordMetadata> {
    const key = `${topic}-${partition}`;
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const sent = previous.catch(() => undefined).then(() => this.sendInOrder(topic, partition, records, acks, gathered));
    this.inFlight.set(key, sent);
    try {
      return await sent;
    } finally {
      if (this.inFlight.get(key) === sent) this.inFlight.delete(key);
    }
  }

  /**
   * Into the accumulator once the topic's storage mode is known (it sets the linger and the
   * batch's bound); the first sends to a topic wait, in order, for one describe of it.
   */
  private enqueue(topic: string, send: WaitingSend): void {
    const waiting = this.awaitingStorage.get(topic);
    if (waiting) {
      waiting.sends.push(send);
      return;
    }
    const storage = this.metadata.cachedStorage(topic);
    if (storage) {
      this.accumulate(topic, storage, send);
      return;
    }
    const sends = [send];
    const lookup = withRetries(`describe ${topic}`, this.deliveryTimeoutMs, this.options, () => this.metadata.storage(topic));
    const done = lookup.then(
      (found) => {
        this.awaitingStorage.delete(topic);
        for (const waiter of sends) this.accumulate(topic, found, waiter);
      },
      (error: unknown) => {
        this.awaitingStorage.delete(topic);
        for (const waiter of sends) waiter.reject(error);
      },
    );
    this.awaitingStorage.set(topic, { sends, done });
  }

  /** Kafka's RecordAccumulator.append: into the partition's last open batch if the send fits whole, else a new batch. */
  private accumulate(topic: string, storage: StorageMode, { partition, records, acks, resolve, reject }: WaitingSend): void {
    const key = `${topic}-${partition}`;
    const diskless = storage === 'diskless';
    let queue = this.accumulator.get(key);
    if (!queue) {
      queue = { topic, partition, diskless, batches: [], sending: false };
      this.accumulator.set(key, queue);
    }
    // A send the function would refuse goes alone, so its refusal reaches only its caller, as without batching.
    const alone = records.length === 0 || !records.every(isWellFormed);
    const bytes = alone ? 0 : records.reduce((sum, record) => sum + recordBytes(record), 0);
    // A diskless batch is bounded by the call (the object) it goes in, not by batch.size: each batch costs its own log items.
    const full = (count: number, size: number) =>
      count >= MAX_RECORDS_PER_PRODUCE || (diskless ? callBytes(count, size) >= this.disklessCallBytes : size >= this.batchSizeBytes);
    const fitsIn = (batch: Batch) =>
      batch.records.length + records.length <= MAX_RECORDS_PER_PRODUCE &&
      (diskless ? callBytes(batch.records.length + records.length, batch.bytes + bytes) <= this.disklessCallBytes : batch.bytes + bytes <= this.batchSizeBytes);
    const last = queue.batches.at(-1);
    let batch: Batch;
    if (last !== undefined && !last.closed && !alone && last.acks === acks && fitsIn(last)) {
      batch = last;
    } else {
      if (last) last.closed = true;
      batch = this.newBatch(key, acks, alone, diskless ? this.disklessLingerMs : this.lingerMs);
      queue.batches.push(batch);
    }
    batch.sends.push({ index: batch.records.length, count: records.length, resolve, reject });
    batch.records.push(...records);
    batch.bytes += bytes;
    if (batch.alone || full(batch.records.length, batch.bytes)) batch.closed = true;
    if (diskless && !batch.closed && this.disklessGatheredBytes() >= this.disklessCallBytes) batch.closed = true;
    this.drain(key);
  }

  /** What the diskless partitions' next batches hold together: what a flush now would send. */
  private disklessGatheredBytes(): number {
    let total = 0;
    for (const queue of this.accumulator.values()) {
      const head = queue.batches[0];
      if (queue.diskless && !queue.sending && head) total += callBytes(head.records.length, head.bytes);
    }
    return total;
  }

  private newBatch(key: string, acks: 'all' | 1, alone: boolean, lingerMs: number): Batch {
    let settle = (): void => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const batch: Batch = { acks, records: [], bytes: 0, alone, sends: [], closed: alone, expired: false, done, settle };
    batch.timer = setTimeout(() => {
      batch.expired = true;
      this.drain(key);
    }, lingerMs);
    return batch;
  }

  /**
   * Sends the partition's oldest batch once it is ready (full, lingered or flushed) and none of
   * the partition's is in flight, and with it the next batch of every other partition of the
   * same storage mode not in flight (Kafka's Sender drains every partition of a ready broker
   * into one request): one call, and for diskless topics one object. The modes drain apart, so
   * a replicated batch never cuts a diskless flush short.
   */
  private drain(key: string): void {
    const queue = this.accumulator.get(key);
    if (!queue || queue.sending) return;
    const batch = queue.batches[0];
    if (!batch) {
      this.accumulator.delete(key);
      return;
    }
    if (!batch.closed && !batch.expired) return;
    if (!this.drainingAll) {
      this.drainAll(queue.diskless);
      return;
    }
    queue.batches.shift();
    queue.sending = true;
    clearTimeout(batch.timer);
    const callBound = queue.diskless ? this.disklessCallBytes : MAX_CALL_BYTES;
    // The batch gets its sequence now, when it is sent; its retries resend it whole under that sequence.
    this.sendBatch(queue.topic, queue.partition, batch.records, batch.acks, batch.alone ? undefined : { callBound })
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

  /** Every partition of the storage mode with a batch gathered and none in flight sends it now. */
  private drainAll(diskless: boolean): void {
    this.drainingAll = true;
    try {
      for (const [key, queue] of this.accumulator) {
        const head = queue.batches[0];
        if (queue.diskless !== diskless || queue.sending || !head) continue;
        head.closed = true;
        this.drain(key);
      }
    } finally {
      this.drainingAll = false;
    }
  }

  private async sendInOrder(topic: string, partition: number, records: ProducerRecord[], acks: 'all' | 1, gathered: { callBound: number } | undefined): Promise<RecordMetadata> {
    const key = `${topic}-${partition}`;
    const idempotent = this.idempotent && acks === 'all';
    const current = idempotent ? this.currentIdentity() : undefined;
    const identity = current ? await current : undefined;
    const baseSequence = identity ? (this.nextSequence.get(key) ?? 0) : undefined;
    const bytes = callBytes(records.length, records.reduce((sum, record) => sum + (isWellFormed(record) ? recordBytes(record) : 0), 0));
    try {
      const ack = await withRetries(
        `produce to ${key}`,
        this.deliveryTimeoutMs,
        this.options,
        async () => {
          const leadership = await this.leaderOf(topic, partition);
          const batch = { topic, partition, records, leaderEpoch: leadership.leaderEpoch, ...(identity ? { ...identity, baseSequence } : {}) };
          const ack = gathered ? await this.produceInCall(acks, batch, bytes, gathered.callBound) : await this.client.produce({ ...batch, acks });
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

  /**
   * One attempt of a batch, in the produce call the attempts made in this turn of the event
   * loop share (Kafka's Sender drains every ready partition into one request). A call is cut
   * where the next batch would take it past its byte bound or MAX_BATCHES_PER_CALL.
   */
  private produceInCall(acks: 'all' | 1, batch: Omit<ProduceRequest, 'acks'>, bytes: number, bound: number): Promise<ProduceResponse> {
    return new Promise<ProduceResponse>((resolve, reject) => {
      let call = this.pendingCalls.get(acks);
      if (
        call &&
        (call.entries.length >= MAX_BATCHES_PER_CALL ||
          call.bytes + bytes > Math.min(bound, ...call.entries.map((entry) => entry.bound)) ||
          call.entries.some((entry) => entry.batch.topic === batch.topic && entry.batch.partition === batch.partition))
      ) {
        this.pendingCalls.delete(acks);
        this.sendCall(call);
        call = undefined;
      }
      if (!call) {
        call = { acks, entries: [], bytes: 0 };
        this.pendingCalls.set(acks, call);
      }
      call.entries.push({ batch, bytes, bound, resolve, reject });
      call.bytes += bytes;
      if (!this.callsScheduled) {
        this.callsScheduled = true;
        // After every attempt started in this turn (their awaits are resolved promises) has joined.
        setImmediate(() => {
          this.callsScheduled = false;
          const calls = [...this.pendingCalls.values()];
          this.pendingCalls.clear();
          for (const pending of calls) this.sendCall(pending);
        });
      }
    });
  }

  /**
   * A call of one batch is a plain produce; of several, a ProduceBatchesRequest whose answers
   * go to each batch's attempt. A produce function older than ProduceBatchesRequest refuses
   * one as malformed (ValidationError, before it writes anything): then every batch is sent
   * alone, now and from then on (as a Kafka client falls back to the API versions its broker has).
   */
  private sendCall({ acks, entries }: PendingCall): void {
    if (entries.length === 1 || this.singleBatchCalls) {
      for (const entry of entries) this.client.produce({ ...entry.batch, acks }).then(entry.resolve, entry.reject);
      return;
    }
    this.client.produceBatches({ acks, batches: entries.map((entry) => entry.batch) }).then(
      (answer) => {
        if (!Array.isArray(answer?.results) || answer.results.length !== entries.length) {
          const error = new ClientError(`a produce call of ${entries.length} batches was answered with ${answer?.results?.length ?? 'no'} results`);
          for (const entry of entries) entry.reject(error);
          return;
        }
        entries.forEach((entry, index) => {
          const result = answer.results[index];
          if (result.topic !== entry.batch.topic || result.partition !== entry.batch.partition) {
            entry.reject(new ClientError(`a produce call answered ${result.topic}-${result.partition} where ${entry.batch.topic}-${entry.batch.partition} was sent`));
          } else if ('errorType' in result) {
            entry.reject(new RemoteFunctionError(this.client.functionName('produce'), result.errorType, result.errorMessage));
          } else entry.resolve(result);
        });
      },
      (error: unknown) => {
        if (isFunctionError(error, 'ValidationError')) {
          this.singleBatchCalls = true;
          this.sendCall({ acks, entries, bytes: 0 });
        } else for (const entry of entries) entry.reject(error);
      },
    );
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
