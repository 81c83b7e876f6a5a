/**
 * Kafka's record batches: the records of one leader append, which replicas copy,
 * truncate and answer as one unit. A follower holding part of a batch could lead with
 * it, and an idempotent producer's retry of that batch would then be refused as out of
 * order (the replica knows only the first part of its sequence), so the producer would
 * start over and write that part twice.
 *
 * A batch never exceeds one leader append, MAX_RECORDS_PER_WRITE records (the produce
 * path splits larger requests into several batches, and the stores refuse larger
 * appends), which is also what one follower copy may carry: every batch fits one copy.
 */
import type { BatchBounds, LogRecord } from './model.js';

type Batched = Pick<LogRecord, 'offset' | 'batch'>;

/** A record stored before batches were recorded counts as a batch of its own. */
export const batchOf = (record: Batched): BatchBounds => record.batch ?? { baseOffset: record.offset, lastOffset: record.offset };

/** The bounds every record of one leader append of `count` records at `startOffset` carries. */
export const appendBatch = (startOffset: number, count: number): BatchBounds => ({
  baseOffset: startOffset,
  lastOffset: startOffset + count - 1,
});

const endsBatch = (record: Batched): boolean => batchOf(record).lastOffset <= record.offset;

/**
 * The leading records of a contiguous run that end where a batch ends: as many whole
 * batches as the run holds (none when its first batch goes on past it).
 */
export function wholeBatches<R extends Batched>(run: readonly R[]): R[] {
  let end = 0;
  run.forEach((record, i) => {
    if (endsBatch(record)) end = i + 1;
  });
  return run.slice(0, end);
}

/**
 * Where a log that ends just after `last` must be cut so as not to end inside a batch:
 * the base of `last`'s batch if that batch goes on past it, else just after it.
 */
export const batchBoundaryAtOrBelow = (last: Batched): number =>
  endsBatch(last) ? last.offset + 1 : Math.min(batchOf(last).baseOffset, last.offset + 1);
