import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../client/poll.js';
import { repoRoot } from '../../../tools/synth.js';
import { leadershipClient, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run cli -- ...` as a user runs it (tsx scripts/cli.ts), against the deployed stack. */
describe('CLI round trip on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  let brokersProcess: ReturnType<typeof start> | undefined;
  const topic = uniqueTopic('cli');
  /** The brokers' credentials, as `brokers register` printed them. */
  const credentials = new Map<string, string>();
  const outputsFile = join(mkdtempSync(join(tmpdir(), 'cli-outputs-')), 'outputs.json');
  const connection = ['--endpoint', target.endpoint, '--outputs', outputsFile, '--stack', 'Stack', '--region', target.region];

  function start(args: string[]) {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/cli.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, AWS_ENDPOINT_URL: '' },
    });
    const run: CliRun = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ ...run, code })));
    return { child, run, done };
  }

  function cli(args: string[], stdin = ''): Promise<CliRun> {
    const { child, done } = start(args);
    child.stdin.end(stdin);
    return done;
  }

  beforeAll(async () => {
    writeFileSync(outputsFile, JSON.stringify({ Stack: target.outputs }));
    // The brokers, too, come from the CLI: an admin registers them, `brokers run` heartbeats with their credentials until SIGINT.
    for (const brokerId of ['cli-1', 'cli-2']) {
      const registered = await cli(['brokers', 'register', '--broker', brokerId, ...connection]);
      expect(registered, registered.stderr).toMatchObject({ code: 0, stderr: '' });
      const [announcement, credential] = registered.stdout.trim().split('\n');
      expect(announcement).toMatch(new RegExp(`^(Registered broker|Rotated the credential of broker) ${brokerId}`));
      credentials.set(brokerId, credential);
    }
    brokersProcess = start([
      'brokers', 'run',
      '--broker', 'cli-1', `--credential=${credentials.get('cli-1')!}`,
      '--broker', 'cli-2', `--credential=${credentials.get('cli-2')!}`,
      '--heartbeat-interval-ms', String(Math.floor(target.sessionTimeoutMs / 6)),
      ...connection,
    ]);
    brokersProcess.child.stdin.end();
    await waitForLiveBrokers(client, ['cli-1', 'cli-2'], target.sessionTimeoutMs * 8);
    const announced = brokersProcess.run;
    await pollUntil(() => /Brokers cli-1, cli-2 heartbeating every \d+ ms/.test(announced.stdout), { timeoutMs: 10_000, description: 'brokers run to announce its brokers' });
  });

  afterAll(async () => {
    if (brokersProcess) {
      brokersProcess.child.kill('SIGINT');
      const ended = await brokersProcess.done;
      expect(ended.code, ended.stderr).toBe(0);
    }
    client.close();
  });

  it('creates, lists and describes a topic', async () => {
    const created = await cli(['topics', 'create', '--topic', topic, '--partitions', '2', '--replication-factor', '2', ...connection]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`Created topic "${topic}": 2 partition\\(s\\), replication factor 2`));

    const listed = await cli(['topics', 'list', ...connection]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${topic}\tpartitions 2\treplication factor 2`);

    const described = await cli(['topics', 'describe', '--topic', topic, ...connection]);
    expect(described.code).toBe(0);
    const lines = described.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Topic: ${topic}\tPartitionCount: 2\tReplicationFactor: 2\tConfigs: min.insync.replicas=1,unclean.leader.election.enable=false,compression.type=producer,storage=replicated`);
    expect(lines.slice(1)).toHaveLength(2);
    expect(lines[1]).toMatch(/Partition: 1\tLeader: cli-\d\tReplicas: cli-\d,cli-\d\tIsr: cli-\d,cli-\d\tLeaderEpoch: 0\tHighWatermark: 0\tONLINE/);

    const brokers = await cli(['brokers', 'list', ...connection]);
    expect(brokers.stdout).toMatch(/^cli-1\tincarnation \d+\talive/m);
  });

  it('creates a diskless topic with --config storage=diskless, and describe says so', async () => {
    const diskless = `${topic}-diskless`;
    const created = await cli(['topics', 'create', '--topic', diskless, '--partitions', '1', '--replication-factor', '2', '--config', 'storage=diskless', ...connection]);
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(new RegExp(`Created topic "${diskless}": .*, storage diskless\\.`));
    const described = await cli(['topics', 'describe', '--topic', diskless, ...connection]);
    expect(described.code).toBe(0);
    expect(described.stdout.split('\n')[0]).toMatch(/\tConfigs: .*,storage=diskless$/);
    const refused = await cli(['topics', 'create', '--topic', `${diskless}-2`, '--partitions', '1', '--replication-factor', '2', '--config', 'storage=tape', ...connection]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--config storage must be one of replicated, diskless, got "tape"/);
  });

  it('produces stdin lines as key:value records and consumes them back from an offset', async () => {
    const produced = await cli(['produce', '--topic', topic, '--partition', '1', '--key-separator', ':', ...connection], 'user-1:hello\nuser-2:a:b\n:no key\n');
    expect(produced.stderr).toBe('');
    expect(produced.code).toBe(0);
    expect(produced.stdout).toMatch(new RegExp(`Produced 3 record\\(s\\) to ${topic}-1 at offsets 0-2`));

    const all = await cli(['consume', '--topic', topic, '--partition', '1', ...connection]);
    expect(all).toMatchObject({ code: 0, stdout: '0\tuser-1\thello\n1\tuser-2\ta:b\n2\t\tno key\n' });
    const fromOne = await cli(['consume', '--topic', topic, '--partition', '1', '--offset', '2', ...connection]);
    expect(fromOne.stdout).toBe('2\t\tno key\n');
  });

  it('keeps polling with --follow and prints what is produced later', async () => {
    const follower = start(['consume', '--topic', topic, '--partition', '2', '--follow', '--poll-interval-ms', '100', ...connection]);
    follower.child.stdin.end();
    await cli(['produce', '--topic', topic, '--partition', '2', ...connection], 'first\nsecond\n');
    await pollUntil(() => follower.run.stdout.includes('1\tnull\tsecond\n'), { timeoutMs: 30_000, intervalMs: 50, description: 'the follower to print offset 1' });
    follower.child.kill('SIGINT');
    const ended = await follower.done;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toBe('0\tnull\tfirst\n1\tnull\tsecond\n');
  });

  it('exits non-zero with a clear message on bad arguments and on refused calls', async () => {
    const badPartition = await cli(['produce', '--topic', topic, '--partition', 'one', ...connection]);
    expect(badPartition.code).toBe(2);
    expect(badPartition.stderr).toContain('--partition must be an integer >= 1, got "one"');
    const unknownVerb = await cli(['topics', 'delete', ...connection]);
    expect(unknownVerb.code).toBe(2);
    expect(unknownVerb.stderr).toContain('unknown verb "topics delete"');
    const ghost = await cli(['consume', '--topic', uniqueTopic('ghost'), '--partition', '1', ...connection]);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toMatch(/UnknownTopicError/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run cli -- <verb>/);
    const electGhost = await cli(['elect-leaders', '--topic', uniqueTopic('ghost'), ...connection]);
    expect(electGhost.code).toBe(1);
    expect(electGhost.stderr).toMatch(/UnknownTopicError/);
    const shutdownNobody = await cli(['brokers', 'shutdown', '--broker', 'cli-nobody', '--incarnation', '1', `--credential=${credentials.get('cli-1')!}`, ...connection]);
    expect(shutdownNobody.code).toBe(1);
    expect(shutdownNobody.stderr).toMatch(/BrokerAuthenticationError/);
    const noCredential = await cli(['brokers', 'shutdown', '--broker', 'cli-2', '--incarnation', '1', ...connection]);
    expect(noCredential.code).toBe(2);
    expect(noCredential.stderr).toContain('--credential is required');
  });

  it('runs a preferred-leader election, and shuts a broker down in a controlled way', async () => {
    const elected = await cli(['elect-leaders', '--topic', topic, ...connection]);
    expect(elected).toMatchObject({ code: 0, stderr: '' });

    const listed = await cli(['brokers', 'list', ...connection]);
    const incarnation = /^cli-2\tincarnation (\d+)\talive/m.exec(listed.stdout)?.[1];
    expect(incarnation, listed.stdout).toBeDefined();
    const shutdown = await cli(['brokers', 'shutdown', '--broker', 'cli-2', '--incarnation', incarnation!, `--credential=${credentials.get('cli-2')!}`, ...connection]);
    expect(shutdown.stderr).toBe('');
    expect(shutdown.code).toBe(0);
    expect(shutdown.stdout).toMatch(/^Broker cli-2 shut down: leaderships moved .*, ISRs left .*\./m);
    const described = await cli(['topics', 'describe', '--topic', topic, ...connection]);
    expect(described.stdout).not.toMatch(/Leader: cli-2\t/);
  });
});
