import type { ErrorName } from '../protocol/errors.js';
import { RemoteFunctionError, type LeadershipClient, type ProduceResponse } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { withRetries, type RetryOptions } from './retry.js';

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

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ProducerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
    this.idempotent = options.enableIdempotence ?? true;
  }

  /** The producer id and epoch in use (idempotent producers, after their first send). */
  async producerIdentity(): Promise<ProducerIdentity | undefined> {
    return this.identity?.catch(() => undefined);
  }

  async send(topic: string, partition: number, records: ProducerRecord[], sendOptions: SendOptions = {}): Promise<RecordMetadata> {
    const acks = sendOptions.acks ?? 'all';
    if (acks === 0) return this.sendWithoutAck(topic, partition, records);
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
