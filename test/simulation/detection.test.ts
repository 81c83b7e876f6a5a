/**
 * The simulation must be able to fail: in the modes where Kafka itself loses
 * data, and with fencing switched off by a test-only store, it has to find it.
 */
import { expect, test } from 'vitest';
import { DEFAULT_PARAMS } from './run.js';
import { firstSeedWith, runSeedRange } from './seed-range.js';

/**
 * The runs these tests were written against: a replicated topic (a replicated run is unchanged
 * by diskless topics), without a consumer group (a group's steps reshuffle the others').
 */
const REPLICATED = { ...DEFAULT_PARAMS, storage: 'replicated' as const, groups: false };

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
  const diskless = { ...DEFAULT_PARAMS, storage: 'diskless' as const, groups: false };
  const seed = await firstSeedWith((v) => v.kind === 'stored object missing', 200, diskless, { objectSweep: 'unfenced' });
  expect(seed, 'no seed up to 200 caught a sweep that fences nothing').toBeDefined();
  const { violations: withFence } = await runSeedRange(seed!, 1, diskless);
  expect(withFence).toEqual([]);
}, 300_000);

// ---- the group rules: each must catch a coordinator, or a member, that breaks the rule it judges

test('a coordinator that keeps the generation across a rebalance gives a partition to two members of one generation, and the checker reports it', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'partition owned twice', 30, DEFAULT_PARAMS, { groupStore: 'kept-generation' });
  expect(seed, 'no seed up to 30 gave a partition to two members of one generation').toBeDefined();
  expect((await runSeedRange(seed!, 1)).violations).toEqual([]);
}, 120_000);

test('a coordinator that serves only the offsets committed under its own epoch loses acknowledged commits at a failover, and the checker reports it', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'acknowledged commit lost', 40, DEFAULT_PARAMS, { groupStore: 'coordinator-memory' });
  expect(seed, 'no seed up to 40 lost an acknowledged commit at a coordinator failover').toBeDefined();
  expect((await runSeedRange(seed!, 1)).violations).toEqual([]);
}, 120_000);

test("a coordinator that checks no generation or member on a commit takes a zombie's commit, which goes backwards, and the checker reports both", async () => {
  const seed = await firstSeedWith((v) => v.kind === 'commit went backwards', 40, DEFAULT_PARAMS, { groupStore: 'unfenced-commits' });
  expect(seed, 'no seed up to 40 wrote a commit that went backwards').toBeDefined();
  const unfenced = await runSeedRange(seed!, 1, DEFAULT_PARAMS, { groupStore: 'unfenced-commits' });
  expect(unfenced.violations.map((v) => v.kind)).toContain('zombie commit accepted');
  expect((await runSeedRange(seed!, 1)).violations).toEqual([]);
}, 120_000);

test('a member that commits what it read before processing it skips records when it dies in between, and the checker reports it', async () => {
  const seed = await firstSeedWith((v) => v.kind === 'record skipped by group', 40, DEFAULT_PARAMS, { groupMember: 'commit-before-process' });
  expect(seed, 'no seed up to 40 skipped a record with commit-before-process').toBeDefined();
  expect((await runSeedRange(seed!, 1)).violations).toEqual([]);
}, 120_000);
