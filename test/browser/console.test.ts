/**
 * The live console in a real headless Chromium (Debian's, driven by playwright-core): its
 * own embedded cloud on a free port, its own console server on another, a short session
 * timeout, and every wait a poll against a deadline.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeadershipClient } from '../../client/lambda-client.js';
import { pollUntil } from '../../client/poll.js';
import type { LeadershipStackOutputs } from '../../client/stack-outputs.js';
import type { LocalCloud } from '../../localcloud/index.js';
import { repoRoot } from '../../tools/synth.js';
import { startConsoleServer, type ConsoleServer } from '../../web/server.js';
import { launchChromium, requireChromium, startStackCloud, type Browser } from './support.js';

const sessionTimeoutMs = 6000;
const heartbeatIntervalMs = 1000;
const artifactsDir = join(repoRoot, 'test-results', 'web-console');
const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.web');

let cloud: LocalCloud;
let cloudPort: number;
let outputs: LeadershipStackOutputs;
let client: LeadershipClient;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
let benchDir: string;

/** Starts the stack on a cloud again (the same port after a stop). */
let startCloud: (port: number) => Promise<LocalCloud>;

beforeAll(async () => {
  requireChromium();
  mkdirSync(artifactsDir, { recursive: true });
  const stack = await startStackCloud(assemblyDir, sessionTimeoutMs);
  ({ cloud, outputs, client } = stack);
  startCloud = stack.start;
  cloudPort = Number(new URL(cloud.endpoint).port);

  benchDir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  writeFileSync(
    join(benchDir, 'failover.json'),
    JSON.stringify({ settings: { sessionTimeoutMs: 3000 }, runs: [3095, 3072, 3060, 3119, 3054].map((promotedMs, index) => ({ promotedMs, firstReadMs: promotedMs + 20 + index * 5 })) }),
  );
  // A committed result, drawn by its benchmark's own chart; one in a shape its chart cannot read; one that is not JSON.
  copyFileSync(join(repoRoot, 'bench-results', 'clients.json'), join(benchDir, 'clients.json'));
  writeFileSync(join(benchDir, 'scale.json'), JSON.stringify({ samples: [{ brokers: 4, p99Ms: 120 }, { brokers: 8, p99Ms: 180 }] }));
  writeFileSync(join(benchDir, 'latency.json'), '{ not json');
  server = await startConsoleServer({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs, port: 0, benchResultsDir: benchDir, pollIntervalMs: 250 });

  browser = await launchChromium({ viewport: { width: 1280, height: 1000 } });
  page = browser.page;
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  client?.close();
  await cloud?.stop();
  if (benchDir) rmSync(benchDir, { recursive: true, force: true });
});

async function submit(formTestId: string, fields: Record<string, string>): Promise<string> {
  const form = page.getByTestId(formTestId);
  for (const [name, value] of Object.entries(fields)) await form.locator(`[name="${name}"]`).fill(value);
  const result = form.locator('.result');
  await result.evaluate((element: { textContent: string | null }) => (element.textContent = ''));
  await form.locator('button[type="submit"]').click();
  await expect.poll(() => result.textContent(), { timeout: 30_000 }).not.toMatch(/^(…)?$/);
  return (await result.textContent()) ?? '';
}

const cell = (partition: string, field: string) => page.getByTestId(`partition-${partition}`).locator(`[data-field="${field}"]`);

describe('the live console', () => {
  it('shows the cluster, and a leader killed from the page is replaced with a raised epoch and a timeline entry within session timeout + 2 s', async () => {
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toContain('up');
    for (const broker of ['A', 'B', 'C']) expect(await submit('start-broker-form', { brokerId: broker })).toBe('started');
    await expect.poll(() => page.locator('[data-testid^="broker-"][data-alive="true"]').count(), { timeout: 15_000 }).toBe(3);

    expect(await submit('create-topic-form', { topic: 'web-orders', partitions: '3', replicationFactor: '2', minInsyncReplicas: '' })).toContain('created web-orders');
    await expect.poll(() => cell('web-orders-1', 'leader').textContent(), { timeout: 10_000 }).toMatch(/^[ABC]$/);
    expect(await submit('produce-form', { topic: 'web-orders', partition: '1', records: 'k1:first\nk2:second\nk3:third' })).toMatch(/offsets 0-2, high watermark 3/);
    // Both replicas hold the three records (acks=all), and the page shows each one's log end.
    await expect.poll(() => cell('web-orders-1', 'log-ends').textContent(), { timeout: 10_000 }).toMatch(/^[ABC] 3, [ABC] 3$/);

    const oldLeader = (await cell('web-orders-1', 'leader').textContent())!;
    const oldEpoch = Number(await cell('web-orders-1', 'epoch').textContent());
    await page.screenshot({ path: join(artifactsDir, '1-before-kill.png'), fullPage: true });

    await page.getByTestId(`kill-${oldLeader}`).click();
    const killedAt = Date.now();
    // Within the session timeout + 2 s of the kill: the new leader, the raised epoch, the timeline entry.
    const deadline = sessionTimeoutMs + 2000;
    await expect
      .poll(async () => ({ leader: await cell('web-orders-1', 'leader').textContent(), epoch: Number(await cell('web-orders-1', 'epoch').textContent()) }), { timeout: deadline, interval: 100 })
      .toEqual({ leader: expect.not.stringMatching(new RegExp(`^(${oldLeader}|none)$`)), epoch: oldEpoch + 1 });
    const entry = page.locator('[data-testid="timeline-event"][data-reason="LEADER_FAILED"][data-partition="web-orders-1"]');
    await expect.poll(() => entry.count(), { timeout: Math.max(0, killedAt + deadline - Date.now()), interval: 100 }).toBe(1);
    const seenAfterMs = Date.now() - killedAt;
    const newLeader = (await cell('web-orders-1', 'leader').textContent())!;
    expect(await entry.getAttribute('data-epoch')).toBe(String(oldEpoch + 1));
    expect(await entry.getAttribute('data-leader')).toBe(newLeader);

    expect(await page.getByTestId('broker-action-result').textContent()).toBe(`kill ${oldLeader}: done`);

    // The failover's three legs, as the page tells them.
    const timing = entry.getByTestId('failover-timing');
    await expect.poll(() => timing.textContent(), { timeout: 10_000 }).toMatch(/^last heartbeat → promoted \+\d+ ms → first read \+\d+ ms$/);
    const [promotedMs, firstReadMs] = [...((await timing.textContent()) ?? '').matchAll(/\+(\d+) ms/g)].map((match) => Number(match[1]));
    expect(promotedMs).toBeGreaterThanOrEqual(sessionTimeoutMs);
    expect(firstReadMs).toBeGreaterThanOrEqual(promotedMs);
    console.log(`[browser] killed ${oldLeader}; page showed ${newLeader} at epoch ${oldEpoch + 1} and the timeline entry ${seenAfterMs} ms after the click; ` +
      `promotion ${promotedMs} ms and first read ${firstReadMs} ms after the last heartbeat (session timeout ${sessionTimeoutMs} ms)`);

    expect(await submit('consume-form', { topic: 'web-orders', partition: '1', offset: '0', maxRecords: '10' })).toContain(`3 records from leader ${newLeader}`);
    // The benchmark panel: each benchmark's own chart with its headline, and why the others are missing.
    await expect.poll(() => page.getByTestId('bench-summary-failover').textContent(), { timeout: 5000 }).toContain('5 runs: first read served');
    expect(await page.getByTestId('bench-clients').textContent()).toContain('commit cf4f6b1');
    for (const file of ['failover.svg', 'clients.svg']) {
      const chart = page.getByTestId(`bench-chart-${file}`);
      await expect.poll(() => chart.evaluate((image: { complete: boolean; naturalWidth: number }) => (image.complete ? image.naturalWidth : 0)), { timeout: 5000 }).toBe(720);
    }
    expect(await page.locator('[data-testid^="bench-chart-"]').count()).toBe(2);
    const missing = (await page.getByTestId('bench-missing').textContent()) ?? '';
    expect(missing).toContain('scale.json has no "points" to draw');
    expect(missing).toMatch(/latency\.json is not JSON/);
    expect(missing).toContain('No runtime results yet: run `npm run bench:runtime`.');
    await page.getByTestId('bench-panel').screenshot({ path: join(artifactsDir, '2-benchmarks.png') });
    await page.screenshot({ path: join(artifactsDir, '2-after-failover.png'), fullPage: true });
  });

  it('revives, pauses, resumes and gracefully stops brokers from the page, and times the controlled shutdown', async () => {
    const leaderOf1 = (await cell('web-orders-1', 'leader').textContent())!;
    const dead = (await page.locator('[data-testid^="broker-"][data-alive="false"]').first().getAttribute('data-testid'))!.replace('broker-', '');
    await page.getByTestId(`revive-${dead}`).click();
    // The revived broker catches up and rejoins the ISR of the partition it lost.
    const expanded = page.locator('[data-testid="timeline-event"][data-reason="ISR_EXPANDED"][data-partition="web-orders-1"]');
    await expect.poll(() => expanded.count(), { timeout: 30_000, interval: 200 }).toBeGreaterThan(0);
    await expect.poll(() => cell('web-orders-1', 'isr').textContent(), { timeout: 10_000 }).toContain(dead);

    const other = ['A', 'B', 'C'].find((broker) => broker !== dead && broker !== leaderOf1)!;
    await page.getByTestId(`pause-${other}`).click();
    await expect.poll(() => page.getByTestId(`broker-${other}`).locator('td').nth(5).textContent(), { timeout: 5000 }).toBe('paused');
    await page.getByTestId(`resume-${other}`).click();
    await expect.poll(() => page.getByTestId(`broker-${other}`).locator('td').nth(5).textContent(), { timeout: 5000 }).toBe('running');

    await page.getByTestId(`shutdown-${leaderOf1}`).click();
    const moved = page.locator('[data-testid="timeline-event"][data-reason="CONTROLLED_SHUTDOWN"][data-partition="web-orders-1"]');
    await expect.poll(() => moved.count(), { timeout: 10_000, interval: 100 }).toBe(1);
    expect(await moved.getAttribute('data-leader')).toBe(dead);
    const timing = moved.getByTestId('failover-timing');
    await expect.poll(() => timing.textContent(), { timeout: 10_000 }).toMatch(/^shutdown request → promoted \+\d+ ms → first read \+\d+ ms$/);
    await expect.poll(() => page.getByTestId(`broker-${leaderOf1}`).locator('td').nth(5).textContent(), { timeout: 5000 }).toBe('stopped');
    console.log(`[browser] graceful stop of ${leaderOf1}: ${await timing.textContent()}`);
    await page.screenshot({ path: join(artifactsDir, '3-controlled-shutdown.png'), fullPage: true });
  });

  it('refuses bad input with the function\'s own error and writes nothing', async () => {
    const before = await client.describe();
    const hw = before.topics.find((topic) => topic.topic === 'web-orders')!.partitions.find((partition) => partition.Partition === 2)!.HighWatermark;

    expect(await submit('create-topic-form', { topic: 'bad topic!', partitions: '2', replicationFactor: '2' })).toMatch(/^Refused: the create-topic function refused: ValidationError: "topic" must be/);
    expect(await submit('create-topic-form', { topic: 'too-wide', partitions: '2', replicationFactor: '9' })).toMatch(/Refused: .*InvalidReplicationFactorError/);
    expect(await submit('create-topic-form', { topic: 'no-parts', partitions: 'x', replicationFactor: '2' })).toMatch(/Refused: .*ValidationError: "partitions" must be an integer/);
    expect(await submit('produce-form', { topic: 'web-orders', partition: '9', records: 'k:v' })).toMatch(/Refused: the produce function refused: UnknownTopicError/);
    expect(await submit('produce-form', { topic: 'web-orders', partition: '2', records: '' })).toMatch(/Refused: the produce function refused: ValidationError/);
    expect(await submit('start-broker-form', { brokerId: 'bad id!' })).toMatch(/Refused: the heartbeat function refused: ValidationError: "brokerId" must be/);

    const after = await client.describe();
    expect(after.topics.map((topic) => topic.topic)).toEqual(before.topics.map((topic) => topic.topic));
    expect(after.topics.find((topic) => topic.topic === 'web-orders')!.partitions.find((partition) => partition.Partition === 2)!.HighWatermark).toBe(hw);
    expect(after.brokers.map((broker) => broker.brokerId)).not.toContain('bad id!');
    await page.getByTestId('create-topic-form').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifactsDir, '4-bad-input.png'), fullPage: true });
  });

  it('says clearly when the cloud is down, and recovers when it is back on the same port', async () => {
    await cloud.stop();
    const banner = page.getByTestId('banner');
    await expect.poll(async () => (await banner.isVisible()) && (await banner.textContent()), { timeout: 15_000, interval: 100 }).toMatch(/unreachable|failed/);
    expect(await page.getByTestId('status').textContent()).toContain('DOWN');
    await page.screenshot({ path: join(artifactsDir, '5-cloud-down.png'), fullPage: true });

    cloud = await startCloud(cloudPort);
    await expect.poll(() => banner.isVisible(), { timeout: 30_000, interval: 100 }).toBe(false);
    expect(await page.getByTestId('status').textContent()).toContain('up');
    // The console's surviving brokers register again with the new cloud, and the page acts again.
    await pollUntil(async () => (await client.describe()).brokers.filter((broker) => broker.alive).length >= 2, { timeoutMs: 30_000, intervalMs: 200, description: 'brokers to re-register after the restart' });
    expect(await submit('create-topic-form', { topic: 'after-restart', partitions: '1', replicationFactor: '1', minInsyncReplicas: '' })).toContain('created after-restart');
    await expect.poll(() => cell('after-restart-1', 'state').textContent(), { timeout: 10_000 }).toBe('ONLINE');
  });

  it('stops with the page still open, and the page says the console is gone', async () => {
    await server.stop();
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 10_000, interval: 100 }).toBe('console server unreachable');
    expect(await page.getByTestId('banner').textContent()).toMatch(/console server does not answer/);
  });
});
