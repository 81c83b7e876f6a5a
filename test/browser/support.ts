/**
 * What the browser tests share: Debian's headless chromium driven by playwright-core, in a
 * throwaway profile, and the stack on its own embedded cloud.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { LeadershipClient } from '../../client/lambda-client.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../localcloud/index.js';
import { chromiumPath } from '../../scripts/lib/chromium.js';
import { useDummyCredentialsIfUnset } from '../../tools/local-env.js';
import { synthesize } from '../../tools/synth.js';
import { E2E_STACK_CONTEXT } from '../e2e/stack/global-setup.js';

const stackName = 'PartitionLeadership';

export interface StackCloud {
  cloud: LocalCloud;
  outputs: LeadershipStackOutputs;
  client: LeadershipClient;
  /** Starts the synthesized stack on a cloud again (on the same port after a stop). */
  start: (port: number) => Promise<LocalCloud>;
}

/**
 * The stack synthesized with the test's session timeout, and otherwise as the e2e stack is (so that
 * `npm test` reuses that synth when the session timeouts agree), into `assemblyDir`.
 */
export async function synthesizeStack(assemblyDir: string, sessionTimeoutMs: number): Promise<void> {
  mkdirSync(assemblyDir, { recursive: true });
  await synthesize({ outdir: assemblyDir, context: { stackName, ...E2E_STACK_CONTEXT, sessionTimeoutMs } });
}

/** The stack synthesized into `assemblyDir` (synthesizeStack), started on an embedded cloud on a free port. */
export async function startStackCloud(assemblyDir: string, sessionTimeoutMs: number): Promise<StackCloud> {
  useDummyCredentialsIfUnset();
  await synthesizeStack(assemblyDir, sessionTimeoutMs);
  const start = (port: number) => startLocalCloud({ port, assemblyDir, ttlPeriodMs: 0, region: 'us-east-1' });
  const cloud = await start(0);
  const outputs = asLeadershipOutputs(stackName, cloud.stacks.find((stack) => stack.stackName === stackName)?.outputs);
  return { cloud, outputs, client: new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: 'us-east-1' }), start };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export function requireChromium(): void {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: \`npm test\` installs Debian's chromium (scripts/lib/chromium.ts), or apt-get install -y chromium`);
}

export async function launchChromium(options: { viewport?: { width: number; height: number }; extraArgs?: string[] } = {}): Promise<Browser> {
  const profileDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    ...(options.viewport ? { viewport: options.viewport } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(options.extraArgs ?? [])],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
