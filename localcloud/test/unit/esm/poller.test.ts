/** What every mapping poller shares: its lifecycle, and the ordered batch loop over one source. */
import { describe, expect, it, vi } from 'vitest';
import { MappingLoop, pollBatches } from '../../../esm/poller.js';
import type { Logger } from '../../../shared/log.js';
import { ScriptedSource } from '../../support/scripted-source.js';
import { sleep } from '../../../testing/wait-for.js';

const spec = { batchSize: 2, maximumBatchingWindowInSeconds: 0 };
const deps = { pollIntervalMs: 5 };

describe('pollBatches', () => {
  it('delivers batches in order, fetching the next only once the previous one has settled', async () => {
    const source = new ScriptedSource([[1, 2, 3], [4, 5]]);
    const delivered: number[][] = [];
    const stop = new AbortController();
    let inFlight = 0;

    await pollBatches(source, spec, deps, stop.signal, async (batch) => {
      inFlight += 1;
      const fetchesBefore = source.fetches;
      await sleep(10);
      expect(source.fetches).toBe(fetchesBefore);
      expect(inFlight).toBe(1);
      inFlight -= 1;
      delivered.push(batch);
      if (delivered.length === 3) stop.abort();
    });

    expect(delivered).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('returns once an exhausted source is drained', async () => {
    const source = new ScriptedSource([[1, 2, 3]]);
    const delivered: number[][] = [];
    const loop = pollBatches(source, spec, deps, new AbortController().signal, (batch) => {
      delivered.push(batch);
      source.exhausted = true;
      return Promise.resolve();
    });

    await loop;
    expect(delivered).toEqual([[1, 2], [3]]);
  });

  it('waits a poll interval while the source is idle, and stops when aborted', async () => {
    const source = new ScriptedSource([]);
    const stop = new AbortController();
    const deliver = vi.fn(() => Promise.resolve(undefined));
    const loop = pollBatches(source, spec, { pollIntervalMs: 20 }, stop.signal, deliver);

    await sleep(70);
    stop.abort();
    await loop;

    expect(source.fetches).toBeGreaterThanOrEqual(2);
    expect(source.fetches).toBeLessThanOrEqual(5);
    expect(deliver).not.toHaveBeenCalled();
  });

  it('does not deliver a batch collected as it was stopped', async () => {
    const stop = new AbortController();
    const source = new ScriptedSource([[1]]);
    source.fetch = () => {
      source.buffer.push(1);
      stop.abort();
      return Promise.resolve(1);
    };
    const deliver = vi.fn(() => Promise.resolve(undefined));

    await pollBatches(source, spec, deps, stop.signal, deliver);

    expect(deliver).not.toHaveBeenCalled();
  });
});

const silentLog = () => ({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: vi.fn<Logger['error']>(),
});

class TestLoop extends MappingLoop {
  runs = 0;
  constructor(
    log: Logger,
    previousStopped: Promise<void>,
    private readonly body: (signal: AbortSignal) => Promise<void>,
  ) {
    super('m1', log, previousStopped);
  }
  protected override async run(): Promise<void> {
    this.runs += 1;
    await this.body(this.signal);
  }
}

describe('MappingLoop', () => {
  it('starts only once the previous poller of the mapping has stopped', async () => {
    let previousStopped!: () => void;
    const loop = new TestLoop(silentLog(), new Promise<void>((resolve) => (previousStopped = resolve)), () => Promise.resolve());

    await sleep(10);
    expect(loop.runs).toBe(0);
    previousStopped();
    await sleep(0);
    expect(loop.runs).toBe(1);
  });

  it('stop() aborts the signal and resolves once run has returned', async () => {
    let returned = false;
    const loop = new TestLoop(silentLog(), Promise.resolve(), async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      await sleep(10);
      returned = true;
    });
    await sleep(0);

    await loop.stop();
    expect(returned).toBe(true);
  });

  it('logs a crash of run with the mapping, and stops cleanly afterwards', async () => {
    const log = silentLog();
    const loop = new TestLoop(log, Promise.resolve(), () => Promise.reject(new Error('boom')));

    await expect(loop.stop()).resolves.toBeUndefined();
    expect(log.error).toHaveBeenCalledWith('mapping m1 stopped on an unexpected error', expect.objectContaining({ message: 'boom' }));
  });
});
