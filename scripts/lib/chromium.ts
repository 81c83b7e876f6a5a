/**
 * The browser test drives Debian's chromium with playwright-core: Playwright's own browser
 * download cannot reach its servers from the project machines, Debian's package can.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Installs Debian's chromium when it is missing (as root, as on the project machines and CI); says what to do otherwise. */
export function ensureChromium(log: (line: string) => void = console.log): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.getuid?.() !== 0) {
    log(`${chromiumPath} is missing and this is not root: install Debian's chromium (sudo apt-get install -y chromium) for the browser test`);
    return false;
  }
  log(`${chromiumPath} is missing: installing Debian's chromium (apt-get install -y chromium) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'chromium']]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      log(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal}); the browser test will fail`);
      return false;
    }
  }
  return existsSync(chromiumPath);
}
