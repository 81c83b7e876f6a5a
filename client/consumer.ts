import { type LeadershipClient } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { ClientError, withRetries, type RetryOptions } from './retry.js';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The first offset to read (default 0). */
  offset?: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  key: string | null;
  value: string;
  appendedAt: number;
}

export interface ConsumerOptions extends RetryOptions {
  /** Kafka's default.api.timeout.ms: how long one partition's fetch may keep failing retriably (default 60 000). */
  defaultApiTimeoutMs?: number;
  /** Kafka's max.poll.records, per partition and poll (default 100, at most 1000). */
  maxPollRecords?: number;
}

interface Assignment {
  topic: string;
  partition: number;
  position: number;
}

/**
 * Reads assigned partitions through the consume function, from a position per partition.
 *
 * The consume function serves only records below the high watermark (committed), so a
 * consumer never has to unsee one; it only must never skip or repeat: the position moves to
 * the last returned offset + 1, and only once the whole poll succeeded. Each fetch names
 * the cached leader epoch (KIP-320); on a retriable error the partition's metadata is
 * dropped, described again, and the fetch retried with backoff until `defaultApiTimeoutMs`.
 */
export class Consumer {
  readonly metadata: MetadataCache;
  private readonly assignments: Assignment[] = [];

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ConsumerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
  }

  /** Replaces the assignment (Kafka's assign + seek). */
  assign(partitions: TopicPartitionOffset[]): void {
    const seen = new Set<string>();
    for (const { topic, partition, offset = 0 } of partitions) {
      if (!Number.isInteger(partition) || partition < 1) throw new ClientError(`partition must be an integer >= 1, got ${partition}`);
      if (!Number.isInteger(offset) || offset < 0) throw new ClientError(`offset must be an integer >= 0, got ${offset}`);
      if (seen.has(`${topic}#${partition}`)) throw new ClientError(`${topic}-${partition} is assigned twice`);
      seen.add(`${topic}#${partition}`);
    }
    this.assignments.length = 0;
    for (const { topic, partition, offset = 0 } of partitions) this.assignments.push({ topic, partition, position: offset });
  }

  assignment(): TopicPartitionOffset[] {
    return this.assignments.map(({ topic, partition, position }) => ({ topic, partition, offset: position }));
  }

  /** The offset of the next record poll returns for the partition. */
  position(topic: string, partition: number): number {
    return this.find(topic, partition).position;
  }

  seek(topic: string, partition: number, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0) throw new ClientError(`offset must be an integer >= 0, got ${offset}`);
    this.find(topic, partition).position = offset;
  }

  /**
   * One fetch per assigned partition, in assignment order; returns the committed records
   * each has from its position (each partition's in offset order; empty when none are new)
   * and advances the positions past them.
   */
  async poll(): Promise<ConsumerRecord[]> {
    if (this.assignments.length === 0) throw new ClientError('poll: no partitions assigned');
    const fetched: Array<{ assignment: Assignment; records: ConsumerRecord[] }> = [];
    for (const assignment of this.assignments) {
      fetched.push({ assignment, records: await this.fetch(assignment) });
    }
    for (const { assignment, records } of fetched) {
      if (records.length > 0) assignment.position = records[records.length - 1].offset + 1;
    }
    return fetched.flatMap(({ records }) => records);
  }

  private fetch({ topic, partition, position }: Assignment): Promise<ConsumerRecord[]> {
    return withRetries(
      `consume from ${topic}-${partition} at offset ${position}`,
      this.options.defaultApiTimeoutMs ?? 60_000,
      this.options,
      async () => {
        const leadership = await this.metadata.leadership(topic, partition);
        const answer = await this.client.consume({
          topic,
          partition,
          offset: position,
          maxRecords: this.options.maxPollRecords ?? 100,
          // Offline in the cache: ask without an epoch, so the function says whether a leader is back.
          ...(leadership.leader === null ? {} : { leaderEpoch: leadership.leaderEpoch }),
        });
        this.metadata.observe(topic, partition, answer.leader, answer.leaderEpoch);
        answer.records.forEach((record, index) => {
          if (record.offset !== position + index) {
            throw new ClientError(`${topic}-${partition}: expected offset ${position + index} at index ${index} of a fetch from ${position}, got ${record.offset}`);
          }
        });
        return answer.records.map((record) => ({ topic, partition, ...record }));
      },
      (error) => this.metadata.afterFailure(topic, partition, error),
    );
  }

  private find(topic: string, partition: number): Assignment {
    const found = this.assignments.find((candidate) => candidate.topic === topic && candidate.partition === partition);
    if (!found) throw new ClientError(`${topic}-${partition} is not assigned`);
    return found;
  }
}
