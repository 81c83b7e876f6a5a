import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface SynthOptions {
  /** Where the cloud assembly goes (the CLI's --output). */
  outdir: string;
  /** CDK context values (-c key=value), e.g. sessionTimeoutMs. */
  context?: Record<string, string | number>;
}

/** Synthesizes the project's CDK app with the real CDK CLI, as `cdk deploy` would. */
export function synthesize(options: SynthOptions): Promise<string> {
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
