import { describe, expect, it } from 'vitest';
import { benchCommand, machine, resultDocument, startRun } from '../../../scripts/bench/lib/results.js';

describe("a benchmark result's provenance", () => {
  it('records the command as it would be typed, the commit with a dirty flag, and the machine at the start', () => {
    const run = startRun('throughput', ['--quick']);
    expect(run.command).toBe('npm run bench:throughput -- --quick');
    expect(benchCommand('scale', [])).toBe('npm run bench:scale');
    expect(run.commit).toEqual({ sha: expect.stringMatching(/^[0-9a-f]{40}$/), dirty: expect.any(Boolean) });
    expect(machine()).toEqual({ cpus: expect.any(Number), model: expect.any(String), memoryMiB: expect.any(Number), node: process.version, loadAverage1m: expect.any(Number) });
    expect(run.machine.cpus).toBeGreaterThan(0);
  });

  it('puts the provenance and the time before the benchmark\'s own fields', () => {
    const run = { command: 'npm run bench:latency', commit: { sha: 'a'.repeat(40), dirty: false }, machine: machine() };
    const document = resultDocument(run, { benchmark: 'latency', settings: { samples: 200 } }, new Date('2026-01-02T03:04:05.000Z'));
    expect(Object.keys(document)).toEqual(['benchmark', 'command', 'commit', 'machine', 'at', 'settings']);
    expect(document.at).toBe('2026-01-02T03:04:05.000Z');
  });
});
