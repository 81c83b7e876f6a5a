/**
 * What `npm start` lets a user do by mistake: serve the console off loopback, or paste a
 * deploy line from its banner into a shell whose credentials reach a real account.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pinToLocalCloud } from '../../../scripts/lib/local-deploy-env.js';
import { startBanner } from '../../../scripts/lib/start-banner.js';
import { repoRoot } from '../../../tools/synth.js';

const outputs = { RegisterBrokerFunctionName: 'register', HeartbeatFunctionName: 'hb', DescribeFunctionName: 'describe', ConsumeFunctionName: 'consume' };

describe('npm start', () => {
  it('refuses a non-loopback --console-host without --console-allow-remote, before starting anything', () => {
    // --port 0 is refused by the next check: were the console check missing, nothing would start either.
    const run = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/start.ts', '--console-host', '0.0.0.0', '--port', '0'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('npm start: --console-host 0.0.0.0 is not a loopback address: anyone who can reach it could kill brokers');
    expect(run.stderr).toContain('Add --console-allow-remote');
    expect(run.stdout).toBe('');
  }, 60_000);

  it('suggests a deploy that stays on the local endpoint: npm run deploy:local, never a bare cdk deploy', () => {
    const banner = startBanner({ port: 4599, sessionTimeoutMs: 3000, outputs, heartbeatLogGroup: 'PartitionLeadership-HeartbeatLogGroup' });
    expect(banner).toContain('npm run deploy:local -- --port 4599 -c retainData=false -c sessionTimeoutMs=3000');
    expect(banner).toContain('npm run deploy:local -- --port 4599 --destroy');
    expect(banner).not.toMatch(/require-approval|npx cdk(local)? |export AWS_ENDPOINT_URL/);
  });
});

describe('npm run deploy:local', () => {
  it('always targets the local endpoint with dummy credentials, whatever the shell holds', () => {
    const shell = {
      AWS_ACCESS_KEY_ID: 'AKIAREALKEY',
      AWS_SECRET_ACCESS_KEY: 'real-secret',
      AWS_SESSION_TOKEN: 'real-session',
      AWS_PROFILE: 'prod',
      AWS_ENDPOINT_URL: 'https://cloudformation.us-east-1.amazonaws.com',
      AWS_ENDPOINT_URL_CLOUDFORMATION: 'https://cloudformation.us-east-1.amazonaws.com',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      AWS_DEFAULT_REGION: 'eu-west-1',
      CDK_DEFAULT_ACCOUNT: '999999999999',
      PATH: '/usr/bin',
    };
    expect(pinToLocalCloud(shell, 'http://localhost:4599')).toEqual({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://localhost:4599',
      AWS_ENDPOINT_URL_S3: 'http://localhost:4599',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_REGION: 'eu-west-1',
      CDK_DISABLE_VERSION_CHECK: 'true',
      PATH: '/usr/bin',
    });
  });

  it('is an npm script', async () => {
    const { scripts } = (await import('../../../package.json', { with: { type: 'json' } })).default as { scripts: Record<string, string> };
    expect(scripts['deploy:local']).toBe('tsx scripts/deploy-local.ts');
  });
});
