import { describe, expect, it } from 'vitest';
import { collectBatch } from '../../../localcloud/esm/batching.js';
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
