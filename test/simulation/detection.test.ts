/**
 * The simulation must be able to fail: in the modes where Kafka itself loses
 * data, and with fencing switched off by a test-only store, it has to find it.
 */
import { expect, test } from 'vitest';
import { DEFAULT_PARAMS } from './run.js';
import { firstSeedWith, runSeedRange } from './seed-range.js';

/** The runs these tests were written against: a replicated topic (a replicated run is unchanged by diskless topics). */
const REPLICATED = { ...DEFAULT_PARAMS, storage: 'replicated' as const };

test('acks=1 with unclean election: acknowledged records get lost (or change value)', async () => {
  const lost = (v: { kind: string }) => v.kind === 'acknowledged record lost' || v.kind === 'value changed';
  const seed = await firstSeedWith(lost, 100, { ...REPLICATED, acks: '1', unclean: true, minInsync: 1 });
  expect(seed, 'no seed up to 100 lost an acknowledged record').toBeDefined();
}, 120_000);

test('without leader/epoch fencing on leader appends, stale-epoch writes are reported', async () => {
  const stale = (v: { kind: string }) => v.kind === 'stale-epoch write accepted' || v.kind === 'two leaders in one epoch';
  const seed = await firstSeedWith(stale, 500, REPLICATED, { fencing: false });
  expect(seed, 'no seed up to 500 caught a stale-epoch write').toBeDefined();
}, 120_000);

test('producers that retry without idempotence write duplicates, and the checker reports them', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'duplicate', 300, REPLICATED, { idempotence: false, judgeDuplicates: true });
  expect(seed, 'no seed up to 300 wrote a duplicate').toBeDefined();
}, 120_000);

test('with copies that may stop inside a batch, torn batches are reported', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'torn batch', 2_000, REPLICATED, { batches: false });
  expect(seed, 'no seed up to 2,000 tore a batch with copies that stop halfway').toBeDefined();
}, 300_000);

test('a topic creation cut short that nothing can finish is reported: the topic never becomes live', async () => {
  const { violations } = await runSeedRange(1, 40, REPLICATED, { resumableCreation: false });
  expect(violations.some((v) => v.kind === 'not live after heal' && v.detail.includes('never created'))).toBe(true);
}, 120_000);

test('without eligible leader replicas, brokers lost together leave a partition leaderless although a replica that came back holds every committed record', async () => {
  // With the switch off, the order of the REMOVEs decides which replica stays in the ISR.
  const seed = await firstSeedWith((v) => v.kind === 'not-live', 2_000, REPLICATED, { eligibleLeaderReplicas: false });
  expect(seed, 'no seed up to 2,000 was left leaderless without ELR').toBeDefined();
  const { violations: withElr } = await runSeedRange(seed!, 1, REPLICATED);
  expect(withElr).toEqual([]);
}, 300_000);


test('a diskless sweep without its fence deletes objects that committed records then point into, and the checker reports them', async () => {
  const diskless = { ...DEFAULT_PARAMS, storage: 'diskless' as const };
  const seed = await firstSeedWith((v) => v.kind === 'stored object missing', 200, diskless, { objectSweep: 'unfenced' });
  expect(seed, 'no seed up to 200 caught a sweep that fences nothing').toBeDefined();
  const { violations: withFence } = await runSeedRange(seed!, 1, diskless);
  expect(withFence).toEqual([]);
}, 300_000);
