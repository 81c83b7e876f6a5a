import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { pollUntil } from '../../../client/poll.js';
import { repoRoot } from '../../../tools/synth.js';
import { leadershipClient, partitionOf, stackTarget, uniqueTopic, waitForLiveBrokers } from './support.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What cli.test.ts leaves out of the CLI round trip: produce in several batches and with
 * --acks 1, consume of every partition, describe of every topic, a stdin line without its
 * key separator; and the controller verbs end to end (a controlled shutdown that moves a
 * leadership, an election that moves it back) with their bad input refused, writing nothing.
 */
describe('CLI: batches, every partition, and the controller verbs on the deployed stack', () => {
  const target = stackTarget();
  const client = leadershipClient(target);
  const brokers = ['clx-1', 'clx-2', 'clx-3'];
  const incarnations = new Map<string, number>();
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: Math.max(200, Math.floor(target.sessionTimeoutMs / 6)),
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => incarnations.set(brokerId, response.incarnation),
  });
  const topic = uniqueTopic('cli-ctl');
  const outputsFile = join(mkdtempSync(join(tmpdir(), 'cli-outputs-')), 'outputs.json');
  const connection = ['--endpoint', target.endpoint, '--outputs', outputsFile, '--stack', 'Stack', '--region', target.region];

  function cli(args: string[], stdin = ''): Promise<CliRun> {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
    const run: CliRun = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.stdin.end(stdin);
    return new Promise((resolve) => child.on('close', (code) => resolve({ ...run, code })));
  }

  const describeTopic = async () => (await client.describe(topic)).topics[0].partitions;
  /** The topic's partitions and the brokers' incarnations: what a refused call must leave as it was. */
  const snapshot = async () => {
    const description = await client.describe();
    return JSON.stringify({
      partitions: description.topics.find((candidate) => candidate.topic === topic)?.partitions,
      brokers: description.brokers.filter((broker) => broker.brokerId.startsWith('clx-')).map(({ brokerId, incarnation, alive }) => ({ brokerId, incarnation, alive })),
    });
  };

  beforeAll(async () => {
    writeFileSync(outputsFile, JSON.stringify({ Stack: target.outputs }));
    await simulator.start(brokers);
    await waitForLiveBrokers(client, brokers, target.sessionTimeoutMs * 8);
    const created = await cli(['topics', 'create', '--topic', topic, '--partitions', '3', '--replication-factor', '3', ...connection]);
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: '' });
  });

  afterAll(async () => {
    await simulator.stop();
    for (const brokerId of brokers) await client.controlledShutdown(brokerId, incarnations.get(brokerId)!, simulator.credentialOf(brokerId)).catch(() => undefined);
    client.close();
  });

  it('produces stdin in batches (--batch-size, --acks 1) and consumes every partition, labelled', async () => {
    const lines = Array.from({ length: 5 }, (_, index) => `line-${index}`);
    const batched = await cli(['produce', '--topic', topic, '--partition', '1', '--batch-size', '2', ...connection], `${lines.join('\n')}\n`);
    expect(batched, batched.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(batched.stdout.match(/^Produced \d+ record\(s\) to .* at offsets \d+-\d+/gm)).toEqual([
      `Produced 2 record(s) to ${topic}-1 at offsets 0-1`,
      `Produced 2 record(s) to ${topic}-1 at offsets 2-3`,
      `Produced 1 record(s) to ${topic}-1 at offsets 4-4`,
    ]);
    const leaderOnly = await cli(['produce', '--topic', topic, '--partition', '2', '--acks', '1', ...connection], 'p2-a\np2-b\n');
    expect(leaderOnly, leaderOnly.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(leaderOnly.stdout).toMatch(new RegExp(`Produced 2 record\\(s\\) to ${topic}-2 at offsets 0-1`));
    // acks=1 answers once the leader has them; the consumer reads committed records only, so wait for the HW.
    await pollUntil(async () => partitionOf(await describeTopic(), 2).HighWatermark === 2, { timeoutMs: 30_000, description: `${topic}-2's high watermark to reach 2` });

    const all = await cli(['consume', '--topic', topic, ...connection]);
    expect(all, all.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toBe([...lines.map((value, offset) => `1\t${offset}\tnull\t${value}`), '2\t0\tnull\tp2-a', '2\t1\tnull\tp2-b', ''].join('\n'));

    const described = await cli(['topics', 'describe', ...connection]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`Topic: ${topic}\tPartitionCount: 3\tReplicationFactor: 3`);
  });

  it('refuses a stdin line without its key separator, producing nothing', async () => {
    const before = await snapshot();
    const refused = await cli(['produce', '--topic', topic, '--partition', '3', '--key-separator', ':', ...connection], 'k1:v1\nno separator\nk3:v3\n');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 2 has no key separator ":"');
    expect(await snapshot()).toBe(before);
    const empty = await cli(['consume', '--topic', topic, '--partition', '3', ...connection]);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
  });

  it('refuses bad input to brokers shutdown and elect-leaders, writing nothing', async () => {
    const before = await snapshot();
    const leader = partitionOf(await describeTopic(), 1).Leader!;
    const incarnation = incarnations.get(leader)!;
    const credential = simulator.credentialOf(leader);
    const other = simulator.credentialOf(brokers.find((id) => id !== leader)!);
    const nobody = (await client.registerBroker('clx-nobody')).credential;
    const refusals: Array<{ args: string[]; code: number; stderr: RegExp }> = [
      { args: ['brokers', 'shutdown', '--broker', leader, `--credential=${credential}`], code: 2, stderr: /--incarnation is required/ },
      { args: ['brokers', 'shutdown', '--broker', leader, '--incarnation', String(incarnation)], code: 2, stderr: /--credential is required/ },
      { args: ['brokers', 'shutdown', '--broker', leader, '--incarnation', '0', `--credential=${credential}`], code: 2, stderr: /--incarnation must be an integer >= 1, got "0"/ },
      { args: ['brokers', 'shutdown', '--broker', leader, '--incarnation', 'latest', `--credential=${credential}`], code: 2, stderr: /--incarnation must be an integer/ },
      { args: ['brokers', 'shutdown', '--broker', leader, '--incarnation', String(incarnation), `--credential=${other}`], code: 1, stderr: /BrokerAuthenticationError/ },
      { args: ['brokers', 'shutdown', '--broker', leader, '--incarnation', String(incarnation - 1), `--credential=${credential}`], code: 1, stderr: /FencedBrokerError/ },
      { args: ['brokers', 'shutdown', '--broker', 'clx-nobody', '--incarnation', '1', `--credential=${nobody}`], code: 1, stderr: /BrokerNotRegisteredError/ },
      { args: ['elect-leaders', '--partition', '1'], code: 2, stderr: /--partition needs --topic/ },
      { args: ['elect-leaders', '--topic', topic, '--partition', '0'], code: 2, stderr: /--partition must be an integer >= 1/ },
      { args: ['elect-leaders', '--topic', topic, '--partition', '1', '--partition', '9'], code: 1, stderr: /UnknownTopicError.*9/ },
      { args: ['elect-leaders', '--topic', 'has#hash'], code: 1, stderr: /ValidationError.*topic/ },
    ];
    for (const { args, code, stderr } of refusals) {
      const run = await cli([...args, ...connection]);
      expect({ args, code: run.code }).toEqual({ args, code });
      expect(run.stderr, args.join(' ')).toMatch(stderr);
      expect(run.stdout, args.join(' ')).toBe('');
    }
    expect(await snapshot()).toBe(before);
  });

  it('moves a leadership away with brokers shutdown and back with elect-leaders', { timeout: 180_000 }, async () => {
    const p1 = partitionOf(await describeTopic(), 1);
    const preferred = p1.Replicas[0];
    expect(p1.Leader).toBe(preferred);
    // A rolling restart: the broker asks for its controlled shutdown while it heartbeats (a CLI
    // call takes seconds here, longer than its lease would outlive stopped heartbeats); its
    // next heartbeat finds the lease gone and registers a new incarnation, as a restarted
    // broker does.
    const listed = await cli(['brokers', 'list', ...connection]);
    const incarnation = new RegExp(`^${preferred}\\tincarnation (\\d+)\\talive`, 'm').exec(listed.stdout)?.[1];
    expect(incarnation, listed.stdout).toBe(String(incarnations.get(preferred)));
    const shutdown = await cli(['brokers', 'shutdown', '--broker', preferred, '--incarnation', incarnation!, `--credential=${simulator.credentialOf(preferred)}`, ...connection]);
    expect(shutdown, shutdown.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(shutdown.stdout).toContain(`Broker ${preferred} shut down: leaderships moved ${topic}-1`);
    const moved = partitionOf(await describeTopic(), 1);
    expect(moved).toMatchObject({ Leader: p1.Replicas[1], LeaderEpoch: p1.LeaderEpoch + 1 });

    // Back as a new incarnation, it catches up and rejoins the ISR; the preferred election moves partition 1 back.
    await pollUntil(async () => (await describeTopic()).every((view) => view.Isr.includes(preferred)) && incarnations.get(preferred) !== Number(incarnation), {
      timeoutMs: 120_000,
      intervalMs: 100,
      description: `${preferred} back in every ISR as a new incarnation`,
    });
    const elected = await cli(['elect-leaders', '--topic', topic, ...connection]);
    expect(elected, elected.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(elected.stdout).toBe(`${topic}-1: leader ${moved.Leader} -> ${preferred} (epoch ${moved.LeaderEpoch + 1})\n`);
    const again = await cli(['elect-leaders', '--topic', topic, ...connection]);
    expect(again.stdout).toMatch(/^No partition moved/);
    const described = await cli(['topics', 'describe', '--topic', topic, ...connection]);
    expect(described.stdout).toContain(`Partition: 1\tLeader: ${preferred}\t`);
    expect(described.stdout).toContain(`LeaderEpoch: ${moved.LeaderEpoch + 1}\t`);
    // What was produced before the moves is all there, once, in order.
    const read = await cli(['consume', '--topic', topic, '--partition', '1', ...connection]);
    expect(read.stdout).toBe(Array.from({ length: 5 }, (_, offset) => `${offset}\tnull\tline-${offset}\n`).join(''));
  });
});
