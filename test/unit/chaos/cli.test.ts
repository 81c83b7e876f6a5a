import { describe, expect, it } from 'vitest';
import { parseChaosArgs, UsageError } from '../../chaos/cli.js';

describe('npm run chaos: arguments', () => {
  it('defaults to one run from seed 1 with 45 s of faults, and reads --flag value and --flag=value', () => {
    expect(parseChaosArgs([])).toEqual({ runs: 1, seed: 1, faultSeconds: 45 });
    expect(parseChaosArgs(['--runs', '20', '--seed=7', '--fault-seconds', '30'])).toEqual({ runs: 20, seed: 7, faultSeconds: 30 });
  });

  it.each([
    [['--runs'], '--runs: missing value'],
    [['--runs', '--seed', '3'], '--runs: missing value'],
    [['--runs', 'ten'], '--runs: expected an integer, got "ten"'],
    [['--runs', '0'], '--runs: must be between 1 and 1000, got 0'],
    [['--seed', '-1'], '--seed: expected an integer, got "-1"'],
    [['--seed', '1', '--seed', '2'], '--seed: given twice'],
    [['--fault-seconds', '1'], '--fault-seconds: must be between 5 and 3600, got 1'],
    [['--seeds', '3'], 'unknown argument "--seeds"'],
    [['20'], 'unknown argument "20"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(UsageError);
    expect(() => parseChaosArgs(argv)).toThrow(message);
  });
});
