/**
 * Seeds 1001..1500 of the 2,000-seed safety run (four files, so vitest runs them in parallel),
 * default parameters. Any violation fails the test with its seed and replay command.
 */
import { expect, test } from 'vitest';
import { runSeedRange } from './seed-range.js';

test('seeds 1001-1500: no violations', async () => {
  const { failures } = await runSeedRange(1001, 500);
  expect(failures).toEqual([]);
}, 480_000);
