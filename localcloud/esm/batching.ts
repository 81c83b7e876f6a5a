/**
 * Filling a batch the way Lambda's pollers do: deliver when the batch is full,
 * when the batching window (measured from the first buffered record) has passed,
 * or at once when the window is 0.
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
  return { batch: source.buffer.splice(0, opts.batchSize), idle };
}
