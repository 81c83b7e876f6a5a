import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface SynthOptions {
  /** Where the cloud assembly goes (the CLI's --output). */
  outdir: string;
  /** CDK context values (-c key=value), e.g. sessionTimeoutMs. */
  context?: Record<string, string | number>;
}

/**
 * Where `npm test` keeps the assemblies it synthesized, one per context, so that the test
 * files (and the phases) that synthesize the same stack share one synth: the sources do not
 * change during a run. `npm test` names a new folder each run; unset, every call synthesizes.
 */
export const SYNTH_CACHE_ENV = 'SYNTH_CACHE_DIR';

/** Synthesizes the project's CDK app with the real CDK CLI, as `cdk deploy` would. */
export async function synthesize(options: SynthOptions): Promise<string> {
  const cacheRoot = process.env[SYNTH_CACHE_ENV];
  if (!cacheRoot) return runSynth(options);
  const key = createHash('sha256').update(JSON.stringify(Object.entries(options.context ?? {}).sort())).digest('hex').slice(0, 16);
  const cached = join(cacheRoot, key);
  if (!existsSync(cached)) {
    mkdirSync(cacheRoot, { recursive: true });
    const partial = `${cached}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    await runSynth({ ...options, outdir: partial });
    // Another process may have finished the same synth meanwhile: either copy will do.
    if (existsSync(cached)) rmSync(partial, { recursive: true, force: true });
    else renameSync(partial, cached);
  }
  cpSync(cached, options.outdir, { recursive: true });
  return options.outdir;
}

function runSynth(options: SynthOptions): Promise<string> {
  const contextArgs = Object.entries(options.context ?? {}).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  const args = ['synth', '--quiet', '--output', options.outdir, ...contextArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'cdk'), args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_CLI_NOTICES: 'false' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(options.outdir);
      else reject(new Error(`cdk synth failed (exit ${code}):\n${output}`));
    });
  });
}
