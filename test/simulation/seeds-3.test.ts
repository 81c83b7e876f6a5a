/**
 * Seeds 601..900 of the 1,200-seed safety run (four files, so vitest runs them in parallel),
 * default parameters. Any violation fails the test with its seed and replay command.
 */
import { expect, test } from 'vitest';
import { runSeedRange } from './seed-range.js';

test('seeds 601-900: no violations', async () => {
  const { failures } = await runSeedRange(601, 300);
  expect(failures).toEqual([]);
}, 480_000);
