/**
 * What the browser tests share: Debian's headless chromium driven by playwright-core, in a
 * throwaway profile.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath } from '../../scripts/lib/chromium.js';

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
