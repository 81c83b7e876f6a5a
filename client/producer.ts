import { RemoteFunctionError, type LeadershipClient, type ProduceResponse } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { withRetries, type RetryOptions } from './retry.js';

export interface ProducerRecord {
  key?: string | null;
  value: string;
}

export interface SendOptions {
  /** "all" (default, Kafka's default since 3.0): acknowledged once every ISR member has the records; 1: once the leader has. */
  acks?: 'all' | 1;
}

export interface ProducerOptions extends RetryOptions {
  /** Kafka's delivery.timeout.ms: how long one send may take, retries and backoffs included (default 120 000). */
  deliveryTimeoutMs?: number;
}

export type RecordMetadata = ProduceResponse;

/**
 * Sends records to a partition's leader through the produce function.
 *
 * It names the leader epoch it believes current, so a produce never lands under a leader
 * it did not mean; on a retriable error (stale epoch, no leader yet, ISR too small, a
 * timeout, a Lambda or network fault) it drops the partition's metadata, backs off
 * exponentially, describes the partition again and resends, until `deliveryTimeoutMs`.
 * Only final errors (ValidationError, UnknownTopicError, ...) and ClientTimeoutError reach
 * the caller.
 *
 * Delivery is at least once, NOT exactly once: there is no idempotent producer (no producer
 * id and sequence numbers) yet. When an attempt's records were appended but the answer was
 * lost or was ReplicationTimeoutError (they may still be committed), the retry appends them
 * again, at new offsets. An acknowledged send is committed once at the offsets it reports;
 * duplicates can only come from a retried send. Idempotence is future work.
 */
export class Producer {
  readonly metadata: MetadataCache;
  private readonly deliveryTimeoutMs: number;

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ProducerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
  }

  async send(topic: string, partition: number, records: ProducerRecord[], sendOptions: SendOptions = {}): Promise<RecordMetadata> {
    const acks = sendOptions.acks ?? 'all';
    return withRetries(
      `produce to ${topic}-${partition}`,
      this.deliveryTimeoutMs,
      this.options,
      async () => {
        const leadership = await this.metadata.leadership(topic, partition);
        if (leadership.leader === null) {
          throw new RemoteFunctionError(this.client.outputs.DescribeFunctionName, 'PartitionOfflineError', `partition ${topic}-${partition} has no leader`);
        }
        const ack = await this.client.produce({ topic, partition, records, leaderEpoch: leadership.leaderEpoch, acks });
        this.metadata.observe(topic, partition, ack.leader, ack.leaderEpoch);
        return ack;
      },
      () => this.metadata.invalidate(topic, partition),
    );
  }
}
