/**
 * Seeds 501..1000 of the 2,000-seed safety run (four files, so vitest runs them in parallel),
 * default parameters. Any violation fails the test with its seed and replay command.
 */
import { expect, test } from 'vitest';
import { runSeedRange } from './seed-range.js';

test('seeds 501-1000: no violations', async () => {
  const { failures } = await runSeedRange(501, 500);
  expect(failures).toEqual([]);
}, 480_000);
