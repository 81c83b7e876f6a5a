/**
 * The console's consumer groups panel in headless Chromium: a group with a member that owns
 * partitions and has committed some, its lag per partition as records are produced, a group
 * made by an admin commit, and the rebalance timeline as members leave and join.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadershipClient } from '../../client/lambda-client.js';
import type { LocalCloud } from '../../localcloud/index.js';
import { repoRoot } from '../../tools/synth.js';
import { startConsoleServer, type ConsoleServer } from '../../web/server.js';
import { findCoordinator, joinAsLeader } from '../e2e/stack/group-member.js';
import { launchChromium, requireChromium, startStackCloud, type Browser } from './support.js';

const sessionTimeoutMs = 6000;
const artifactsDir = join(repoRoot, 'test-results', 'web-console');
const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.web-groups');
const topic = 'web-payments';

let cloud: LocalCloud;
let client: LeadershipClient;
let server: ConsoleServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireChromium();
  mkdirSync(artifactsDir, { recursive: true });
  const stack = await startStackCloud(assemblyDir, sessionTimeoutMs);
  ({ cloud, client } = stack);
  server = await startConsoleServer({ endpoint: cloud.endpoint, outputs: stack.outputs, sessionTimeoutMs, heartbeatIntervalMs: 1000, port: 0, pollIntervalMs: 250 });
  browser = await launchChromium({ viewport: { width: 1280, height: 1000 } });
  page = browser.page;
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  client?.close();
  await cloud?.stop();
});

const row = (group: string, partition: number) => page.getByTestId(`group-partition-${group}-${topic}-${partition}`);
const cells = async (group: string, partition: number) => {
  const locator = row(group, partition);
  if ((await locator.count()) === 0) return undefined;
  const field = (name: string) => locator.locator(`[data-field="${name}"]`).textContent();
  return { owner: await field('owner'), committed: await field('committed'), logEnd: await field('log-end'), lag: await field('lag') };
};

describe('the console groups panel', () => {
  it('shows a group with its member, the partitions it owns and the lag of each, and a rebalance timeline', async () => {
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toContain('up');
    await expect.poll(() => page.getByTestId('groups').textContent(), { timeout: 15_000 }).toContain('No consumer groups yet');
    // Three brokers: the offsets topic (created by the first FindCoordinator) has replication factor 3.
    await server.simulator.start(['A', 'B', 'C']);
    await client.createTopic({ topic, partitions: 3, replicationFactor: 2 });
    await client.produce({ topic, partition: 1, records: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `payment ${i}` })) });
    await client.produce({ topic, partition: 2, records: Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: `payment ${i}` })) });

    const group = 'web-billing';
    const first = await joinAsLeader(client, { groupId: group, clientId: 'billing-app', topics: [topic], assignment: [{ topic, partitions: [1, 2, 3] }], sessionTimeoutMs: 30_000 });
    let second: Awaited<ReturnType<typeof joinAsLeader>> | undefined;
    try {
      await client.invoke('groups', {
        api: 'OffsetCommit',
        groupId: group,
        memberId: first.memberId,
        generationId: first.generationId,
        offsets: [
          { topic, partition: 1, offset: 2 },
          { topic, partition: 2, offset: 4 },
        ],
      });
      // An admin's group beside it: committed offsets and no members.
      const audit = 'web-audit';
      const { coordinatorEpoch } = await findCoordinator(client, audit);
      await client.invoke('groups', { api: 'OffsetCommit', groupId: audit, coordinatorEpoch, generationId: -1, offsets: [{ topic, partition: 1, offset: 5 }] });

      const block = page.getByTestId(`group-${group}`);
      await expect.poll(() => block.getAttribute('data-state'), { timeout: 15_000 }).toBe('Stable');
      await expect.poll(() => block.locator('[data-field="summary"]').textContent(), { timeout: 10_000 }).toMatch(new RegExp(`generation ${first.generationId}, 1 member, assignor range, coordinator [ABC] \\(epoch \\d+\\), total lag 4`));
      const member = page.getByTestId(`group-member-${first.memberId}`);
      expect(await member.locator('td').nth(1).textContent()).toBe('billing-app');
      expect(await member.locator('[data-field="owned"]').textContent()).toBe(`${topic}(1,2,3)`);
      await expect.poll(() => cells(group, 1), { timeout: 10_000 }).toEqual({ owner: first.memberId, committed: '2', logEnd: '6', lag: '4' });
      expect(await cells(group, 2)).toEqual({ owner: first.memberId, committed: '4', logEnd: '4', lag: '0' });
      expect(await cells(group, 3)).toEqual({ owner: first.memberId, committed: '-', logEnd: '0', lag: '-' });
      await expect.poll(() => page.getByTestId(`group-${audit}`).getAttribute('data-state'), { timeout: 10_000 }).toBe('Empty');
      expect(await cells(audit, 1)).toEqual({ owner: '-', committed: '5', logEnd: '6', lag: '1' });

      // Records arrive: the lag follows the log end.
      await client.produce({ topic, partition: 2, records: [{ key: null, value: 'late payment' }] });
      await expect.poll(async () => (await cells(group, 2))?.lag, { timeout: 10_000 }).toBe('1');

      // The member leaves and another joins: the timeline shows each generation with its members.
      await first.leave();
      await expect.poll(() => page.getByTestId(`group-${group}`).getAttribute('data-state'), { timeout: 15_000 }).toBe('Empty');
      second = await joinAsLeader(client, { groupId: group, clientId: 'billing-app-2', topics: [topic], assignment: [{ topic, partitions: [1, 2, 3] }], sessionTimeoutMs: 30_000 });
      await expect.poll(() => cells(group, 1), { timeout: 15_000 }).toEqual({ owner: second.memberId, committed: '2', logEnd: '6', lag: '4' });
      const entries = page.locator(`[data-testid="group-timeline-entry"][data-group="${group}"]`);
      await expect.poll(() => entries.first().getAttribute('data-generation'), { timeout: 10_000 }).toBe(String(second.generationId));
      expect(await entries.first().locator('[data-field="members"]').textContent()).toBe(`${second.memberId}: ${topic}(1,2,3)`);
      const generations = await entries.evaluateAll((rows: Array<{ getAttribute(name: string): string | null }>) => rows.map((entry) => [entry.getAttribute('data-generation'), entry.getAttribute('data-state')]));
      // Seen first as it formed (generation 0 waiting out the initial rebalance delay, or already 1), then each generation once.
      expect(generations).toContainEqual([String(first.generationId), 'Stable']);
      expect(generations.some(([, state]) => state === 'Empty')).toBe(true);
      expect(new Set(generations.map(([generation]) => generation)).size).toBe(generations.length);

      await page.getByTestId('groups-panel').screenshot({ path: join(artifactsDir, 'groups-panel.png') });
    } finally {
      await second?.leave().catch(() => undefined);
    }
  });
});
