import { RemoteFunctionError, type ConsumeRequest, type ConsumeResponse, type LeadershipClient } from './lambda-client.js';
import { MetadataCache } from './metadata.js';
import { ClientError, isRetriable, leadershipMoved, systemClock, withRetries, type RetryOptions } from './retry.js';

/** The most partitions the consume function takes in one fetch (functions/domain/limits.ts MAX_PARTITIONS_PER_FETCH). */
export const MAX_PARTITIONS_PER_FETCH = 1000;
/** The longest the consume function holds a fetch (functions/domain/limits.ts MAX_FETCH_WAIT_MS). */
export const MAX_FETCH_WAIT_MS = 5000;

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
  /** Kafka's default.api.timeout.ms: how long a poll's fetch may keep failing retriably (default 60 000). */
  defaultApiTimeoutMs?: number;
  /** Kafka's max.poll.records, per partition and poll (default 100, at most 1000). */
  maxPollRecords?: number;
  /** Kafka's max.partition.fetch.bytes: keys and values per partition and poll, past the first record (the function's default: 1 MiB; at most 5 MiB). */
  maxPartitionFetchBytes?: number;
  /** Kafka's fetch.max.bytes: all records of one fetch together, as the answer carries them (the function's default and most: 5 MiB). */
  fetchMaxBytes?: number;
  /**
   * Kafka's fetch.max.wait.ms (default 500): how long a poll waits for `fetchMinBytes` of records
   * before it returns with fewer (or none). It returns as soon as a fetch brings them. Where the
   * wait is spent: see `fetchWaitInFunction`.
   */
  fetchMaxWaitMs?: number;
  /** Kafka's fetch.min.bytes (default 1): the records, as the fetch answers carry them, worth returning before the wait is up. */
  fetchMinBytes?: number;
  /**
   * Where a poll waits (default false: here). Here, a fetch with nothing new is answered at
   * once from one cheap read, and the next fetch goes fetchMaxWaitMs after the answer: an idle
   * consumer costs a fetch per fetchMaxWaitMs (and round trip), as Kafka's does, and a record
   * waits up to that long to be fetched.
   * In the function (true, at most MAX_FETCH_WAIT_MS), it looks again every 200 ms and answers
   * as soon as the records are there, as Kafka's broker does, but every millisecond held is
   * billed as Lambda time (docs/functions.md, "Consume").
   */
  fetchWaitInFunction?: boolean;
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
  private readonly maxWaitMs: number;
  private readonly minBytes: number;
  /**
   * When the last fetch that brought fewer than fetchMinBytes was answered: the next goes
   * fetchMaxWaitMs after it, as a Kafka consumer's next fetch goes when its broker answered one
   * held for fetch.max.wait.ms.
   */
  private thinAnswerAt: number | undefined;

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: ConsumerOptions = {},
  ) {
    this.metadata = new MetadataCache(client);
    const { fetchMaxWaitMs = 500, fetchMinBytes = 1, fetchWaitInFunction = false } = options;
    const mostWait = fetchWaitInFunction ? MAX_FETCH_WAIT_MS : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(fetchMaxWaitMs) || fetchMaxWaitMs < 0 || fetchMaxWaitMs > mostWait) {
      throw new ClientError(`fetchMaxWaitMs must be an integer from 0${fetchWaitInFunction ? ` to ${MAX_FETCH_WAIT_MS} when the function waits` : ''}, got ${fetchMaxWaitMs}`);
    }
    if (!Number.isSafeInteger(fetchMinBytes) || fetchMinBytes < 1) throw new ClientError(`fetchMinBytes must be an integer >= 1, got ${fetchMinBytes}`);
    this.maxWaitMs = fetchMaxWaitMs;
    this.minBytes = fetchMinBytes;
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
   * Fetches every assigned partition (Kafka's Fetch, one consume call per 1000 partitions),
   * returns the committed records each has from its position (each partition's in offset
   * order) and advances the positions past them. A long poll: it returns once the records
   * come to fetchMinBytes, else after about fetchMaxWaitMs with what it has (empty when none
   * are new), waiting where `fetchWaitInFunction` says.
   */
  async poll(): Promise<ConsumerRecord[]> {
    if (this.assignments.length === 0) throw new ClientError('poll: no partitions assigned');
    const clock = this.options.clock ?? systemClock;
    if (this.options.fetchWaitInFunction) return this.fetchAll();
    const started = clock.now();
    const polled: ConsumerRecord[] = [];
    for (;;) {
      if (this.thinAnswerAt !== undefined) {
        const pause = this.thinAnswerAt + this.maxWaitMs - clock.now();
        if (pause > 0) await clock.sleep(pause);
      }
      try {
        polled.push(...(await this.fetchAll()));
      } catch (error) {
        // Their positions have moved past the records already fetched: they are this poll's to return.
        if (polled.length > 0) return polled;
        throw error;
      }
      const enough = polled.length > 0 && (this.minBytes === 1 || bytesOf(polled) >= this.minBytes);
      this.thinAnswerAt = enough ? undefined : clock.now();
      if (enough || clock.now() - started >= this.maxWaitMs) return polled;
    }
  }

  /** One fetch of every assigned partition: their records (in assignment order), positions advanced past them. */
  private async fetchAll(): Promise<ConsumerRecord[]> {
    const fetched = new Map<Assignment, ConsumerRecord[]>();
    for (let start = 0; start < this.assignments.length; start += MAX_PARTITIONS_PER_FETCH) {
      await this.fetch(this.assignments.slice(start, start + MAX_PARTITIONS_PER_FETCH), fetched);
    }
    for (const [assignment, records] of fetched) {
      if (records.length > 0) assignment.position = records[records.length - 1].offset + 1;
    }
    return this.assignments.flatMap((assignment) => fetched.get(assignment) ?? []);
  }

  /**
   * Fetches the partitions until each is answered, into `fetched`. A partition refused
   * retriably is fetched again (with its metadata refreshed, or taken from the refusal's
   * leader hint) with the others still pending; a final refusal of any fails the poll.
   */
  private fetch(assignments: Assignment[], fetched: Map<Assignment, ConsumerRecord[]>): Promise<void> {
    let pending = assignments;
    const refusals = new Set<unknown>();
    return withRetries(
      `consume from ${describePositions(assignments)}`,
      this.options.defaultApiTimeoutMs ?? 60_000,
      this.options,
      async () => {
        const asked = await Promise.all(pending.map((assignment) => this.request(assignment)));
        const answer = await this.client.fetch({
          partitions: asked,
          ...(this.options.fetchMaxBytes === undefined ? {} : { maxBytes: this.options.fetchMaxBytes }),
          ...(this.options.fetchWaitInFunction ? { maxWaitMs: this.maxWaitMs, minBytes: this.minBytes } : {}),
        });
        if (!Array.isArray(answer?.partitions) || answer.partitions.length !== pending.length) {
          throw new ClientError(`a fetch of ${pending.length} partitions was answered with ${answer?.partitions?.length ?? 'no'} partitions`);
        }
        const refused: Array<{ assignment: Assignment; error: RemoteFunctionError }> = [];
        pending.forEach((assignment, index) => {
          const result = answer.partitions[index];
          if (result.topic !== assignment.topic || result.partition !== assignment.partition) {
            throw new ClientError(`a fetch answered ${result.topic}-${result.partition} where ${assignment.topic}-${assignment.partition} was asked`);
          }
          if ('errorType' in result) {
            refused.push({ assignment, error: new RemoteFunctionError(this.client.functionName('consume'), result.errorType, result.errorMessage) });
          } else {
            fetched.set(assignment, this.records(assignment, result));
          }
        });
        const final = refused.find(({ error }) => !isRetriable(error));
        if (final) throw final.error;
        for (const { assignment, error } of refused) this.metadata.afterFailure(assignment.topic, assignment.partition, error);
        pending = refused.map(({ assignment }) => assignment);
        if (refused.length === 0) return;
        // Only a move of leadership goes again at once (withRetries): any other refusal backs off for all.
        const error = (refused.find(({ error }) => !leadershipMoved(error)) ?? refused[0]).error;
        refusals.add(error);
        throw error;
      },
      (error) => {
        // The invocation itself failed: every partition's leadership is in doubt only if it says so.
        if (!refusals.has(error)) for (const { topic, partition } of pending) this.metadata.afterFailure(topic, partition, error);
      },
    );
  }

  private async request({ topic, partition, position }: Assignment): Promise<ConsumeRequest> {
    const leadership = await this.metadata.leadership(topic, partition);
    return {
      topic,
      partition,
      offset: position,
      maxRecords: this.options.maxPollRecords ?? 100,
      ...(this.options.maxPartitionFetchBytes === undefined ? {} : { maxBytes: this.options.maxPartitionFetchBytes }),
      // Offline in the cache: ask without an epoch, so the function says whether a leader is back.
      ...(leadership.leader === null ? {} : { leaderEpoch: leadership.leaderEpoch }),
    };
  }

  /** A partition's answer as records, once its leadership is noted and its offsets checked for holes. */
  private records({ topic, partition, position }: Assignment, answer: ConsumeResponse): ConsumerRecord[] {
    this.metadata.observe(topic, partition, answer.leader, answer.leaderEpoch);
    answer.records.forEach((record, index) => {
      if (record.offset !== position + index) {
        throw new ClientError(`${topic}-${partition}: expected offset ${position + index} at index ${index} of a fetch from ${position}, got ${record.offset}`);
      }
    });
    return answer.records.map((record) => ({ topic, partition, ...record }));
  }

  private find(topic: string, partition: number): Assignment {
    const found = this.assignments.find((candidate) => candidate.topic === topic && candidate.partition === partition);
    if (!found) throw new ClientError(`${topic}-${partition} is not assigned`);
    return found;
  }
}

/** The records as a fetch answer carries them (what fetch.min.bytes counts in the function too). */
function bytesOf(records: readonly ConsumerRecord[]): number {
  const encoder = new TextEncoder();
  return records.reduce((sum, { offset, leaderEpoch, key, value, appendedAt }) => sum + encoder.encode(JSON.stringify({ offset, leaderEpoch, key, value, appendedAt })).length, 0);
}

function describePositions(assignments: readonly Assignment[]): string {
  const named = assignments.slice(0, 3).map(({ topic, partition, position }) => `${topic}-${partition} at offset ${position}`);
  return assignments.length > 3 ? `${assignments.length} partitions (${named.join(', ')}, ...)` : named.join(', ');
}
