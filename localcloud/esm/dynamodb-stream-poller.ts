/**
 * One stream mapping: discovers the stream's shards (DescribeStream, refreshed
 * periodically) and runs one ShardPoller per shard. A child shard (after a split)
 * starts only once its parent is drained, preserving per-key order as Lambda does.
 */
import { DescribeStreamCommand, type Shard } from '@aws-sdk/client-dynamodb-streams';
import { delay } from '../shared/delay.js';
import { describeError } from '../shared/log.js';
import type { DynamoStreamSource, EventSourceMappingSpec } from '../types.js';
import type { RecordPredicate } from './filter.js';
import { MappingLoop, type PollerDeps } from './poller.js';
import { ShardPoller } from './shard-poller.js';

/** How often new shards are looked for; shards split rarely (roughly every 4 h on AWS). */
const SHARD_REFRESH_MS = 1000;

interface RunningShard {
  poller: ShardPoller;
  finished: boolean;
  done: Promise<void>;
}

export class DynamoStreamPoller extends MappingLoop {
  private readonly shards = new Map<string, RunningShard>();
  private lastDescribeError: string | undefined;

  constructor(
    private readonly spec: EventSourceMappingSpec,
    private readonly source: DynamoStreamSource,
    private readonly deps: PollerDeps,
    private readonly filter: RecordPredicate,
    previousStopped: Promise<void>,
  ) {
    super(spec.uuid, deps.log, previousStopped);
  }

  protected override async run(): Promise<void> {
    const signal = this.signal;
    let initialShards = true;
    while (!signal.aborted) {
      const shards = await this.describeShards();
      if (shards) {
        this.startReadyShards(shards, initialShards);
        initialShards = false;
      }
      await delay(SHARD_REFRESH_MS, signal);
    }
    await Promise.all([...this.shards.values()].map((shard) => shard.done));
  }

  private startReadyShards(shards: Shard[], initialShards: boolean): void {
    const listed = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || this.shards.has(shardId)) continue;
      const parent = shard.ParentShardId;
      const parentPending = parent !== undefined && listed.has(parent) && !this.shards.get(parent)?.finished;
      if (parentPending) continue;
      // Shards born after the mapping started hold only newer records: read them whole.
      const latest = this.spec.startingPosition === 'LATEST' && initialShards;
      const poller = new ShardPoller(
        this.spec,
        this.deps,
        this.source.eventSourceArn,
        { shardId, latest },
        this.filter,
        this.signal,
      );
      const running: RunningShard = { poller, finished: false, done: Promise.resolve() };
      running.done = poller
        .run()
        .catch((err: unknown) => this.deps.log.error(`shard poller ${shardId} crashed`, err))
        .finally(() => {
          running.finished = true;
        });
      this.shards.set(shardId, running);
    }
  }

  /** All shards of the stream, or undefined when DescribeStream failed (logged once per distinct error). */
  private async describeShards(): Promise<Shard[] | undefined> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    try {
      do {
        const page = await this.deps.streams.send(
          new DescribeStreamCommand({
            StreamArn: this.source.eventSourceArn,
            ExclusiveStartShardId: exclusiveStartShardId,
          }),
        );
        shards.push(...(page.StreamDescription?.Shards ?? []));
        exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
      } while (exclusiveStartShardId);
      this.lastDescribeError = undefined;
      return shards;
    } catch (err) {
      const message = describeError(err);
      if (message !== this.lastDescribeError) {
        this.deps.log.error(`mapping ${this.spec.uuid}: cannot describe stream ${this.source.eventSourceArn}`, err);
      }
      this.lastDescribeError = message;
      return undefined;
    }
  }
}
