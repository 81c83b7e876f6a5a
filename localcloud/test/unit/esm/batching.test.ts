import { describe, expect, it } from 'vitest';
import { MAX_BATCH_PAYLOAD_BYTES, collectBatch, recordsFittingPayload } from '../../../esm/batching.js';
import { ScriptedSource } from '../../support/scripted-source.js';

const options = (batchSize: number, windowMs: number) => ({
  batchSize,
  windowMs,
  pollIntervalMs: 5,
  signal: new AbortController().signal,
});

describe('collectBatch', () => {
  it('delivers what one fetch brought when the window is 0', async () => {
    const source = new ScriptedSource([[1, 2], [3]]);
    expect(await collectBatch(source, options(10, 0))).toEqual({ batch: [1, 2], idle: false });
  });

  it('reports idle when nothing arrived', async () => {
    expect(await collectBatch(new ScriptedSource([]), options(10, 0))).toEqual({ batch: [], idle: true });
  });

  it('keeps fetching within the window until the batch is full, leaving the rest buffered', async () => {
    const source = new ScriptedSource([[1], [], [2, 3], [4, 5, 6]]);
    const { batch } = await collectBatch(source, options(5, 10_000));
    expect(batch).toEqual([1, 2, 3, 4, 5]);
    expect(source.buffer).toEqual([6]);
  });

  it('delivers a partial batch when the window closes', async () => {
    const source = new ScriptedSource([[1]]);
    const started = Date.now();
    const { batch } = await collectBatch(source, options(5, 50));
    expect(batch).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('stops waiting once the source is exhausted', async () => {
    const source = new ScriptedSource([[1]]);
    source.exhausted = true;
    source.buffer.push(7);
    expect((await collectBatch(source, options(5, 10_000))).batch).toEqual([7]);
  });
});

describe('the 6 MB payload of one invocation', () => {
  const record = (kb: number) => ({ value: 'x'.repeat(kb * 1024) });

  it('delivers only the records that fit, leaving the rest buffered for the next batch', async () => {
    // 10 records of 1 MB: six would exceed 6 MB with their envelope.
    const source = new ScriptedSource([Array.from({ length: 10 }, () => record(1024))]);
    const { batch } = await collectBatch(source, options(100, 0));
    expect(batch).toHaveLength(5);
    expect(source.buffer).toHaveLength(5);
    expect(Buffer.byteLength(JSON.stringify({ Records: batch }))).toBeLessThanOrEqual(MAX_BATCH_PAYLOAD_BYTES);
  });

  it('counts by bytes up to the batch size, and always lets one record through', () => {
    expect(recordsFittingPayload([record(1), record(1), record(1)], 2)).toBe(2);
    expect(recordsFittingPayload([record(7 * 1024), record(1)], 10)).toBe(1);
    expect(recordsFittingPayload([], 10)).toBe(0);
  });
});
