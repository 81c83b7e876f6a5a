/**
 * The console's plan panel in headless Chromium: a topic of the running cluster planned at
 * the produce rate the console observed, from the repository's bench-results/, and refusals
 * for bad input, and the diskless mode's plan (measured once bench:cost has its shape, else modelled).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadershipClient } from '../../client/lambda-client.js';
import type { LocalCloud } from '../../localcloud/index.js';
import { repoRoot } from '../../tools/synth.js';
import { startConsoleServer, type ConsoleServer } from '../../web/server.js';
import { launchChromium, requireChromium, startStackCloud, type Browser } from './support.js';

const sessionTimeoutMs = 6000;
const artifactsDir = join(repoRoot, 'test-results', 'web-console');
const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.web-plan');

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
  const { outputs } = stack;
  server = await startConsoleServer({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs: 1000, port: 0, pollIntervalMs: 250 });
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

async function plan(fields: Record<string, string>): Promise<string> {
  const form = page.getByTestId('plan-form');
  for (const [name, value] of Object.entries(fields)) await form.locator(`input[name="${name}"]`).fill(value);
  const result = page.getByTestId('plan-result');
  await result.evaluate((element: { textContent: string | null }) => (element.textContent = ''));
  await form.locator('button[type="submit"]').click();
  await expect.poll(() => result.textContent(), { timeout: 30_000 }).not.toMatch(/^(…)?$/);
  return (await result.textContent()) ?? '';
}

describe('the console plan panel', () => {
  it("plans a topic at the rate the console observed, with the topic's RF and min ISR, and refuses what it cannot plan", async () => {
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toContain('up');
    await server.simulator.start(['A', 'B', 'C']);
    await client.createTopic({ topic: 'plan-orders', partitions: 2, replicationFactor: 3, minInsyncReplicas: 2 });
    await expect.poll(() => page.getByTestId('plan-topic-settings').textContent(), { timeout: 15_000 }).toBe('RF 3, min ISR 2');

    // A steady producer until the console has seen 10 s of it.
    let producing = true;
    const producer = (async () => {
      for (let batch = 0; producing; batch++) {
        await client.produce({ topic: 'plan-orders', partition: 1 + (batch % 2), records: Array.from({ length: 5 }, (_, i) => ({ key: null, value: `r${batch}-${i}` })) });
      }
    })();
    try {
      await expect.poll(() => page.getByTestId('plan-observed').textContent(), { timeout: 40_000, interval: 500 }).toMatch(/^Observed: [1-9][\d.]* records\/s committed to plan-orders/);
    } finally {
      producing = false;
      await producer;
    }

    const text = await plan({ 'records-per-second': '' });
    expect(text).toMatch(/^plan-orders: RF 3, min ISR 2, 3 brokers, at the observed rate/);
    expect(text).toMatch(/Plan: [\d.,]+ records\/s of 1024 B .* replicated, RF 3, min\.insync\.replicas 2, retention 7d/);
    for (const part of ['Monthly cost', 'DynamoDB writes', 'Kinesis Data Streams on-demand', 'MSK Serverless', 'Partitions needed', 'acks=all produce latency', 'acks=all writes keep working through 1 lost broker']) {
      expect(text).toContain(part);
    }
    await page.getByTestId('plan-panel').screenshot({ path: join(artifactsDir, 'plan-panel.png') });

    const entered = await plan({ 'records-per-second': '5000', 'record-bytes': '2048', retention: '30d' });
    expect(entered).toMatch(/at the rate entered/);
    expect(entered).toContain('Plan: 5,000 records/s of 2048 B');

    expect(await plan({ 'records-per-second': '-1' })).toMatch(/^Refused: --records-per-second must be a number > 0, got "-1"/);
    expect(await plan({ 'records-per-second': '10', retention: '7y' })).toMatch(/^Refused: --retention has an unknown unit "y"/);
    await page.getByTestId('plan-form').locator('select[name="storage"]').selectOption('diskless');
    const diskless = await plan({ retention: '7d' });
    expect(diskless).toMatch(/Plan: .*, diskless, RF 3/);
    const measured = (JSON.parse(readFileSync(join(repoRoot, 'bench-results', 'cost.json'), 'utf8')) as { diskless?: unknown }).diskless;
    if (measured) expect(diskless).toMatch(/measured \(embedded cloud, bench:cost, diskless shape, RF 3\)/);
    else expect(diskless).toContain('usage MODELLED from the diskless design, not measured');
    await expect.poll(() => page.getByTestId('plan-result').getAttribute('class')).toBe('plan-result');
  });
});
