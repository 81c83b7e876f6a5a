import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../tools/synth.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run cli -- plan ...` as a user runs it (tsx scripts/cli.ts): it needs no cluster, only bench-results/. */
function cli(args: string[]): Promise<CliRun> {
  const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), ['scripts/cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: '' } });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code) => resolve({ ...run, code })));
}

const load = ['--records-per-second', '1000', '--record-bytes', '1024', '--rf', '3', '--retention', '7d'];

describe('npm run cli -- plan', () => {
  it("prints the plan from the repository's measured results: cost lines, references, partitions, latency, failures", async () => {
    const run = await cli(['plan', ...load, '--min-insync', '2']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^Plan: 1,000 records\/s of 1024 B \(0\.977 MiB\/s\), replicated, RF 3, min\.insync\.replicas 2, retention 7d, 16 records per produce call/);
    for (const line of ['DynamoDB writes', 'DynamoDB reads', 'storage (', 'Lambda requests', 'Lambda GB-s', 'CloudWatch logs', 'SQS', 'idle cluster floor', 'total', 'Kinesis Data Streams on-demand', 'MSK Serverless']) {
      expect(out).toContain(`  ${line}`);
    }
    expect(out).toMatch(/Partitions needed: \d+ \(bound by the (measured rate|AWS per-key write limit), the lower ceiling\)/);
    expect(out).toMatch(/measured \(embedded cloud, bench:latency, RF 3\): p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(out).toMatch(/AWS estimate \(not measured/);
    expect(out).toContain('acks=all writes keep working through 1 lost broker');
    expect(out).toContain('call shape: 16 records per call, as measured.');
  });

  it('prints the same plan as JSON with --json', async () => {
    const run = await cli(['plan', ...load, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout) as { request: { replicationFactor: number }; monthly: { total: number }; partitions: { needed: number }; failures: unknown };
    expect(plan.request.replicationFactor).toBe(3);
    expect(plan.monthly.total).toBeGreaterThan(0);
    expect(plan.partitions.needed).toBeGreaterThanOrEqual(1);
    expect(plan.failures).toEqual({ writesContinueThrough: 2, acknowledgedSurvive: 2, acknowledgedSurviveWorstCase: 0 });
  });

  it("plans --storage diskless from the design's model while bench-results has no diskless measurement, saying so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-results-'));
    const { diskless: _measured, ...cost } = JSON.parse(readFileSync(join(repoRoot, 'bench-results', 'cost.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'cost.json'), JSON.stringify(cost));
    const run = await cli(['plan', '--records-per-second', '5000', '--record-bytes', '1024', '--rf', '3', '--min-insync', '2', '--retention', '7d', '--storage', 'diskless', '--partitions', '16', '--bench-results', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Plan: 5,000 records\/s of 1024 B .*, diskless, RF 3/);
    expect(run.stdout).toContain('usage MODELLED from the diskless design, not measured');
    expect(run.stdout).toContain('model: a flush every 250 ms: 4 produce calls and S3 PUTs/s of 1,250 records, 64 batches/s over 16 partitions');
    expect(run.stdout).toMatch(/AWS estimate \(a MODEL, not measured: .*\): p50 \d+ ms, p99 \d+ ms/);
    const perMillion = Number(/\(\$([\d.]+) per million records produced and consumed once\)/.exec(run.stdout)?.[1]);
    expect(perMillion).toBeGreaterThan(0);
    expect(perMillion).toBeLessThanOrEqual(0.23);
  });

  it("plans --storage diskless from bench:cost's diskless shape once it is measured", async () => {
    const run = await cli(['plan', '--records-per-second', '5000', '--record-bytes', '1024', '--rf', '3', '--min-insync', '2', '--retention', '7d', '--storage', 'diskless']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Plan: 5,000 records\/s of 1024 B .*, diskless, RF 3/);
    expect(run.stdout).toMatch(/measured \(embedded cloud, bench:cost, diskless shape, RF 3\): p50 \d+ ms/);
    expect(run.stdout).not.toContain('usage MODELLED');
  });

  it('plans diskless from a cost.json that has diskless measurements (--bench-results)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-results-'));
    const cost = JSON.parse(readFileSync(join(repoRoot, 'bench-results', 'cost.json'), 'utf8')) as { shapes: Array<Record<string, unknown>> };
    cost.shapes.push({ ...cost.shapes[cost.shapes.length - 1], storage: 'diskless' });
    writeFileSync(join(dir, 'cost.json'), JSON.stringify(cost));
    const run = await cli(['plan', ...load, '--storage', 'diskless', '--bench-results', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Plan: .*, diskless, RF 3/);
    expect(run.stdout).toContain('one copy of the record bytes in S3');
  });

  it('refuses bad input with exit 2, naming the flag, and prints no plan', async () => {
    for (const [args, message] of [
      [['--records-per-second=-5', '--record-bytes', '1024', '--rf', '3', '--retention', '7d'], '--records-per-second must be a number > 0'],
      [['--records-per-second', '5', '--record-bytes', '1024', '--rf', '0', '--retention', '7d'], '--rf must be an integer from 1 to 100'],
      [['--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--min-insync', '3', '--retention', '7d'], '--min-insync must not exceed --rf (2)'],
      [['--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--retention', '7y'], '--retention has an unknown unit "y"'],
      [['--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--retention', '7d', '--storage', 'tape'], '--storage must be replicated or diskless'],
    ] as Array<[string[], string]>) {
      const run = await cli(['plan', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`cli: ${message}`);
    }
  });
});
