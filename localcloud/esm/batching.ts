/**
 * Filling a batch the way Lambda's pollers do: deliver when the batch is full,
 * when the batching window (measured from the first buffered record) has passed,
 * or at once when the window is 0; and never more records than fit one
 * invocation's 6 MB payload (the rest wait for the next batch).
 */
import { delay } from '../shared/delay.js';

export interface BatchSource<T> {
  /** Fetched, filtered records not yet delivered (the source appends, collectBatch takes). */
  readonly buffer: T[];
  /** Fetches more into `buffer`; returns how many raw records arrived (filtered ones included). */
  fetch(wanted: number): Promise<number>;
  /** True when nothing more can ever arrive (a closed shard). */
  readonly exhausted: boolean;
}

export interface BatchingOptions {
  batchSize: number;
  windowMs: number;
  pollIntervalMs: number;
  signal: AbortSignal;
}

export interface CollectedBatch<T> {
  batch: T[];
  /** The last fetch returned nothing: the caller should wait before polling again. */
  idle: boolean;
}

/** Lambda's limit on a synchronous invocation's payload, which a poller's batch is. */
export const MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room for the event's envelope ({"Records":[...]}) and the separators. */
const ENVELOPE_BYTES = 1024;

/** How many of the first `limit` records fit one payload: at least one (a single oversized record is the function's problem, as in Lambda). */
export function recordsFittingPayload(records: readonly unknown[], limit: number, maxBytes = MAX_BATCH_PAYLOAD_BYTES): number {
  let bytes = ENVELOPE_BYTES;
  let count = 0;
  for (const record of records.slice(0, limit)) {
    bytes += Buffer.byteLength(JSON.stringify(record)) + 1;
    if (count > 0 && bytes > maxBytes) break;
    count++;
  }
  return count;
}

export async function collectBatch<T>(source: BatchSource<T>, opts: BatchingOptions): Promise<CollectedBatch<T>> {
  let windowEnd: number | undefined;
  let idle = false;
  while (!opts.signal.aborted && source.buffer.length < opts.batchSize) {
    const arrived = source.exhausted ? 0 : await source.fetch(opts.batchSize - source.buffer.length);
    idle = arrived === 0;
    if (source.buffer.length === 0) return { batch: [], idle };
    if (opts.windowMs <= 0 || source.exhausted) break;
    windowEnd ??= Date.now() + opts.windowMs;
    const remaining = windowEnd - Date.now();
    if (remaining <= 0) break;
    if (idle) await delay(Math.min(opts.pollIntervalMs, remaining), opts.signal);
  }
  return { batch: source.buffer.splice(0, recordsFittingPayload(source.buffer, opts.batchSize)), idle };
}
