import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './synth.js';

export interface CdkLocalDeployOptions {
  /** The LocalStack edge, e.g. http://localhost:4566. */
  endpoint: string;
  outputsFile: string;
  /** Extra CLI arguments, e.g. ['-c', 'sessionTimeoutMs=3000']. */
  extraArgs?: string[];
}

/** cdklocal bootstrap + deploy against a running LocalStack, outputs written to a file. */
export function deployWithCdkLocal(options: CdkLocalDeployOptions): void {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const account = process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000';
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3 ?? options.endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    AWS_REGION: region,
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
  const cdklocal = join(repoRoot, 'node_modules', '.bin', 'cdklocal');
  const extra = options.extraArgs ?? [];
  for (const args of [
    ['bootstrap', `aws://${account}/${region}`, ...extra],
    ['deploy', '--require-approval', 'never', '--outputs-file', options.outputsFile, ...extra],
  ]) {
    console.log(`$ cdklocal ${args.join(' ')}`);
    const result = spawnSync(cdklocal, args, { cwd: repoRoot, env, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`cdklocal ${args[0]} failed with exit code ${result.status}`);
  }
}
