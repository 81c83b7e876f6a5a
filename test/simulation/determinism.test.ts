import { describe, expect, test } from 'vitest';
import { parseSimArgs, runSeeds } from './cli.js';
import { DEFAULT_PARAMS, runSimulation } from './run.js';

describe('a run is a pure function of its seed', () => {
  test.each([1, 7, 92, 4242])('seed %i twice gives the same trace, history outcome and faults', async (seed) => {
    const first = await runSimulation(seed, DEFAULT_PARAMS, { fullTrace: true });
    const second = await runSimulation(seed, DEFAULT_PARAMS, { fullTrace: true });
    expect(first.trace.length).toBeGreaterThan(100);
    expect(second.trace).toEqual(first.trace);
    expect(second.violations).toEqual(first.violations);
    expect(second.faults).toEqual(first.faults);
    expect(second.stats).toEqual(first.stats);
  });

  test('different seeds take different paths', async () => {
    const a = await runSimulation(1, DEFAULT_PARAMS, { fullTrace: true });
    const b = await runSimulation(2, DEFAULT_PARAMS, { fullTrace: true });
    expect(b.trace).not.toEqual(a.trace);
  });

  test('--seed replays exactly what the same seed printed inside a multi-seed run', async () => {
    const params = { ...DEFAULT_PARAMS, acks: '1' as const, unclean: true };
    const inRange: string[] = [];
    await runSeeds({ params, firstSeed: 1, seeds: 5, verbose: false }, (line) => inRange.push(line));
    const failing = inRange.filter((line) => line.startsWith('FAIL seed '));
    expect(failing.length).toBeGreaterThan(0);
    const seed = Number(/^FAIL seed (\d+)/.exec(failing[0])![1]);
    const replay: string[] = [];
    await runSeeds(parseSimArgs(['--seed', String(seed), '--acks', '1', '--unclean']), (line) => replay.push(line));
    expect(replay[0]).toEqual(failing[0]);
  });
});
