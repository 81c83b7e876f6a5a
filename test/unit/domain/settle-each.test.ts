import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { valuesOrFirstFailure } from '../../../functions/concurrency.js';
import { settleEach } from '../../../functions/domain/partition-change.js';

describe('settleEach', () => {
  it('settles every item, in the items order, whatever order they finish in', async () => {
    const results = await settleEach([30, 10, 20], async (ms) => {
      await sleep(ms);
      if (ms === 10) throw new Error('ten');
      return ms * 2;
    });
    expect(results[0]).toEqual({ status: 'fulfilled', value: 60 });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: new Error('ten') });
    expect(results[2]).toEqual({ status: 'fulfilled', value: 40 });
  });

  it('works on at most `limit` items at once and returns only when all have settled', async () => {
    let inFlight = 0;
    let most = 0;
    let done = 0;
    await settleEach(
      Array.from({ length: 20 }, (_, i) => i),
      async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(1);
        inFlight -= 1;
        done += 1;
      },
      4,
    );
    expect(most).toBe(4);
    expect(done).toBe(20);
  });

  it('handles no items', async () => {
    expect(await settleEach([], () => Promise.resolve(1))).toEqual([]);
  });
});

describe('valuesOrFirstFailure', () => {
  it('answers the values in order when everything succeeded', () => {
    expect(valuesOrFirstFailure([{ status: 'fulfilled', value: 1 }, { status: 'fulfilled', value: 2 }])).toEqual([1, 2]);
  });

  it('throws the first failure, not a later one', () => {
    const settled: Array<PromiseSettledResult<number>> = [
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('first') },
      { status: 'rejected', reason: new Error('second') },
    ];
    expect(() => valuesOrFirstFailure(settled)).toThrow('first');
  });
});
