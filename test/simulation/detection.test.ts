/**
 * The simulation must be able to fail: in the modes where Kafka itself loses
 * data, and with fencing switched off by a test-only store, it has to find it.
 */
import { expect, test } from 'vitest';
import { DEFAULT_PARAMS } from './run.js';
import { firstSeedWith, runSeedRange } from './seed-range.js';

test('acks=1 with unclean election: acknowledged records get lost (or change value)', async () => {
  const { violations } = await runSeedRange(1, 100, { ...DEFAULT_PARAMS, acks: '1', unclean: true, minInsync: 1 });
  const kinds = new Set(violations.map((v) => v.kind));
  expect(kinds.has('acknowledged record lost') || kinds.has('value changed')).toBe(true);
}, 120_000);

test('without leader/epoch fencing on leader appends, stale-epoch writes are reported', async () => {
  const { violations } = await runSeedRange(1, 500, DEFAULT_PARAMS, { fencing: false });
  const kinds = new Set(violations.map((v) => v.kind));
  expect(kinds.has('stale-epoch write accepted') || kinds.has('two leaders in one epoch')).toBe(true);
}, 120_000);

test('producers that retry without idempotence write duplicates, and the checker reports them', async () => {
  const { violations } = await runSeedRange(1, 300, DEFAULT_PARAMS, { idempotence: false, judgeDuplicates: true });
  expect(new Set(violations.map((v) => v.kind)).has('duplicate')).toBe(true);
}, 120_000);

test('with copies that may stop inside a batch, torn batches are reported', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'torn batch', 2_000, DEFAULT_PARAMS, { batches: false });
  expect(seed, 'no seed up to 2,000 tore a batch with copies that stop halfway').toBeDefined();
}, 300_000);

test('a topic creation cut short that nothing can finish is reported: the topic never becomes live', async () => {
  const { violations } = await runSeedRange(1, 40, DEFAULT_PARAMS, { resumableCreation: false });
  expect(violations.some((v) => v.kind === 'not live after heal' && v.detail.includes('never created'))).toBe(true);
}, 120_000);

test('without eligible leader replicas, brokers lost together leave a partition leaderless although a replica that came back holds every committed record', async () => {
  // With the switch off, the order of the REMOVEs decides which replica stays in the ISR.
  const seed = await firstSeedWith((v) => v.kind === 'not-live', 2_000, DEFAULT_PARAMS, { eligibleLeaderReplicas: false });
  expect(seed, 'no seed up to 2,000 was left leaderless without ELR').toBeDefined();
  const { violations: withElr } = await runSeedRange(seed!, 1, DEFAULT_PARAMS);
  expect(withElr).toEqual([]);
}, 300_000);


test('a diskless sweep without its fence deletes objects that committed records then point into, and the checker reports them', async () => {
  const diskless = { ...DEFAULT_PARAMS, storage: 'diskless' as const };
  const seed = await firstSeedWith((v) => v.kind === 'stored object missing', 200, diskless, { objectSweep: 'unfenced' });
  expect(seed, 'no seed up to 200 caught a sweep that fences nothing').toBeDefined();
  const { violations: withFence } = await runSeedRange(seed!, 1, diskless);
  expect(withFence).toEqual([]);
}, 300_000);
