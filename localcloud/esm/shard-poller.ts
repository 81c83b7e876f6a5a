/**
 * Polls one shard of a DynamoDB stream for one mapping, strictly in order: the
 * next batch is collected only after the previous one has settled.
 *
 * LATEST starts at the shard's end as of when the poller first takes its iterator, as
 * on AWS: records written between the mapping's creation and that moment are not
 * delivered. (A boundary by creation time cannot be exact here: DynamoDB Local gives
 * creation times to the minute.)
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
} from '@aws-sdk/client-dynamodb-streams';
import { isAwsError } from '../shared/aws-clients.js';
import { delay } from '../shared/delay.js';
import type { EventSourceMappingSpec } from '../types.js';
import type { BatchSource } from './batching.js';
import type { RecordPredicate } from './filter.js';
import { pollBatches, retryDelayMs, type PollerDeps } from './poller.js';
import { deliverStreamBatch } from './stream-delivery.js';
import { toPendingStreamRecord, type PendingStreamRecord } from './stream-records.js';

/** GetRecords' maximum; the buffer keeps whatever exceeds the batch for the next one. */
const GET_RECORDS_LIMIT = 1000;

export interface ShardPosition {
  shardId: string;
  /** Start at the shard's end (LATEST) rather than its beginning, unless resuming from a checkpoint. */
  latest?: boolean;
}

export class ShardPoller implements BatchSource<PendingStreamRecord> {
  readonly buffer: PendingStreamRecord[] = [];
  exhausted = false;
  private iterator: string | undefined;
  /** Last record read from the shard (buffered or filtered out). */
  private lastReadSequence: string | undefined;
  private consecutiveErrors = 0;

  constructor(
    private readonly spec: EventSourceMappingSpec,
    private readonly deps: PollerDeps,
    private readonly streamArn: string,
    private readonly position: ShardPosition,
    private readonly filter: RecordPredicate,
    private readonly signal: AbortSignal,
  ) {}

  get shardId(): string {
    return this.position.shardId;
  }

  private accepts(record: PendingStreamRecord): boolean {
    return this.filter(record.event);
  }

  private get checkpointKey(): string {
    return `${this.spec.uuid}|${this.shardId}`;
  }

  /** Resolves when the shard is closed and drained, or the poller is stopped. */
  run(): Promise<void> {
    return pollBatches(this, this.spec, this.deps, this.signal, async (batch) => {
      await deliverStreamBatch(batch, {
        spec: this.spec,
        deps: this.deps,
        shardId: this.shardId,
        streamArn: this.streamArn,
        signal: this.signal,
      });
      if (!this.signal.aborted) this.checkpoint(batch[batch.length - 1].sequenceNumber);
    });
  }

  private checkpoint(sequenceNumber: string): void {
    // Records filtered out after the batch are processed too: nothing left in the buffer means all read ones are.
    const settled = this.buffer.length === 0 && this.lastReadSequence ? this.lastReadSequence : sequenceNumber;
    this.deps.checkpoints.set(this.checkpointKey, settled);
  }

  async fetch(): Promise<number> {
    try {
      this.iterator ??= await this.newIterator();
      if (this.iterator === undefined) return 0;
      const page = await this.deps.streams.send(
        new GetRecordsCommand({ ShardIterator: this.iterator, Limit: GET_RECORDS_LIMIT }),
      );
      this.consecutiveErrors = 0;
      this.iterator = page.NextShardIterator;
      if (!this.iterator) this.exhausted = true;
      const records = page.Records ?? [];
      const readAtMs = Date.now();
      for (const raw of records) {
        const record = toPendingStreamRecord(raw, this.streamArn, this.deps.region, readAtMs);
        if (!record) continue;
        this.lastReadSequence = record.sequenceNumber;
        if (this.accepts(record)) this.buffer.push(record);
      }
      if (records.length > 0 && this.buffer.length === 0 && this.lastReadSequence) {
        this.deps.checkpoints.set(this.checkpointKey, this.lastReadSequence);
      }
      return records.length;
    } catch (err) {
      await this.recover(err);
      return 0;
    }
  }

  /** Where to (re)start reading: after what was already read, else the shard's beginning (or end: LATEST). */
  private async newIterator(): Promise<string | undefined> {
    const resumeAfter = this.lastReadSequence ?? this.deps.checkpoints.get(this.checkpointKey);
    const position: Pick<GetShardIteratorCommandInput, 'ShardIteratorType' | 'SequenceNumber'> = resumeAfter
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: resumeAfter }
      : { ShardIteratorType: this.position.latest ? 'LATEST' : 'TRIM_HORIZON' };
    const { ShardIterator } = await this.deps.streams.send(
      new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: this.shardId, ...position }),
    );
    return ShardIterator;
  }

  private async recover(err: unknown): Promise<void> {
    if (isAwsError(err, 'ExpiredIteratorException')) {
      this.iterator = undefined; // re-acquired after lastReadSequence on the next fetch
      return;
    }
    if (isAwsError(err, 'TrimmedDataAccessException')) {
      // DynamoDB Local also says so to a TRIM_HORIZON iterator taken while the shard was
      // still empty: taking a new one then skips nothing, and is not worth a warning.
      const hadPosition = this.lastReadSequence !== undefined || this.deps.checkpoints.has(this.checkpointKey);
      if (hadPosition) this.deps.log.warn(`${this.shardId}: records were trimmed before they were read; continuing at the oldest one`);
      this.iterator = undefined;
      this.lastReadSequence = undefined;
      this.deps.checkpoints.delete(this.checkpointKey);
      return;
    }
    if (isAwsError(err, 'ResourceNotFoundException')) {
      this.deps.log.warn(`${this.shardId} of ${this.streamArn} no longer exists; its poller stops`);
      this.exhausted = true;
      return;
    }
    this.consecutiveErrors += 1;
    this.deps.log.error(`reading ${this.shardId} of ${this.streamArn} failed`, err);
    await delay(retryDelayMs(this.consecutiveErrors, this.deps.pollIntervalMs), this.signal);
  }
}
