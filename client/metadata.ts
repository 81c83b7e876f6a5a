import type { ErrorName } from '../protocol/errors.js';
import type { PartitionState } from '../protocol/leadership.js';
import type { StorageMode } from '../protocol/messages.js';
import type { LeadershipClient, PartitionView } from './lambda-client.js';
import { RemoteFunctionError } from './lambda-client.js';
import { leadershipMoved } from './retry.js';

export interface PartitionLeadership {
  topic: string;
  partition: number;
  leader: string | null;
  leaderEpoch: number;
  state: PartitionState;
}

/**
 * The client's view of who leads each partition (Kafka's metadata cache), filled from the
 * describe function one topic at a time, dropped for a partition whenever a call on it
 * fails retriably, and advanced by what produce and consume answers report.
 */
export class MetadataCache {
  private readonly partitions = new Map<string, PartitionLeadership>();
  private readonly refreshing = new Map<string, Promise<void>>();
  /** Each described topic's storage mode: a topic keeps the one it was created with. */
  private readonly storages = new Map<string, StorageMode>();
  /** How many times describe was called: the unit tests count refreshes. */
  refreshes = 0;

  constructor(private readonly client: LeadershipClient) {}

  /** The cached leadership of a partition, described afresh when not cached. */
  async leadership(topic: string, partition: number): Promise<PartitionLeadership> {
    const cached = this.partitions.get(key(topic, partition));
    if (cached) return cached;
    await this.refresh(topic);
    const fresh = this.partitions.get(key(topic, partition));
    if (!fresh) {
      // Worded as the functions word it, so callers treat both alike (not retriable).
      throw new RemoteFunctionError(this.client.functionName('describe'), 'UnknownTopicError' satisfies ErrorName, `partition ${partition} does not exist in topic "${topic}"`);
    }
    return fresh;
  }

  /** The topic's storage mode if a describe of it was seen, else undefined (no call made). */
  cachedStorage(topic: string): StorageMode | undefined {
    return this.storages.get(topic);
  }

  /** The topic's storage mode, described (with its partitions) when not known yet. */
  async storage(topic: string): Promise<StorageMode> {
    const cached = this.storages.get(topic);
    if (cached) return cached;
    await this.refresh(topic);
    const fresh = this.storages.get(topic);
    if (!fresh) throw new RemoteFunctionError(this.client.functionName('describe'), 'UnknownTopicError' satisfies ErrorName, `topic "${topic}" does not exist`);
    return fresh;
  }

  /**
   * Describes the topic into the cache. Calls while a describe of the topic is under way join
   * it: a poll that misses the cache for many partitions of one topic describes it once.
   */
  refresh(topic: string): Promise<void> {
    const running = this.refreshing.get(topic);
    if (running) return running;
    const refresh = this.describe(topic).finally(() => this.refreshing.delete(topic));
    this.refreshing.set(topic, refresh);
    return refresh;
  }

  private async describe(topic: string): Promise<void> {
    this.refreshes += 1;
    const description = await this.client.describe(topic);
    for (const described of description.topics) {
      // Answers of functions older than storage modes carry none: their topics are replicated.
      this.storages.set(described.topic, described.storage ?? 'replicated');
      for (const view of described.partitions) this.remember(view);
    }
  }

  invalidate(topic: string, partition: number): void {
    this.partitions.delete(key(topic, partition));
  }

  /**
   * After a retriable failure of a call on the partition: a refusal that names the current
   * leader (KIP-951) is taken at its word, so the retry goes straight there; anything else
   * drops the cached leadership, so the retry describes the partition first.
   */
  afterFailure(topic: string, partition: number, error: unknown): void {
    this.invalidate(topic, partition);
    const hint = leaderHintOf(error);
    if (hint) this.observe(topic, partition, hint.leader, hint.leaderEpoch);
  }

  /** A newer epoch learned from an answer replaces the cached one; an older one never does. */
  observe(topic: string, partition: number, leader: string, leaderEpoch: number): void {
    const cached = this.partitions.get(key(topic, partition));
    if (cached && cached.leaderEpoch > leaderEpoch) return;
    this.partitions.set(key(topic, partition), { topic, partition, leader, leaderEpoch, state: 'ONLINE' });
  }

  private remember(view: PartitionView): void {
    this.partitions.set(key(view.Topic, view.Partition), {
      topic: view.Topic,
      partition: view.Partition,
      leader: view.Leader,
      leaderEpoch: view.LeaderEpoch,
      state: view.State,
    });
  }
}

const key = (topic: string, partition: number) => `${topic}#${partition}`;

const LEADER_HINT = /\[current leader (\S+) epoch (\d+)\]/;

/** The current leader a leadership refusal names (functions/domain/errors.ts currentLeaderHint), if any. */
export function leaderHintOf(error: unknown): { leader: string; leaderEpoch: number } | null {
  if (!leadershipMoved(error)) return null;
  const match = LEADER_HINT.exec(error.message);
  return match ? { leader: match[1], leaderEpoch: Number(match[2]) } : null;
}
