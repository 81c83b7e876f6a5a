/**
 * Wiring from the function table: the variables the stack sets for an entry (those of its `uses`,
 * plus the settings) are all its cold start reads, and a dependency outside `uses` names the table.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ENV } from '../../../functions/config.js';
import { DEPENDENCY_ENV, FUNCTIONS, dependenciesOf, type FunctionSpec } from '../../../functions/function-table.js';
import { wire } from '../../../functions/wiring.js';
import { settingsEnv } from '../../factories/settings-env.js';


/** Exactly the environment the stack gives the entry's function (see test/infra). */
function stubEnvOf(spec: FunctionSpec): void {
  for (const name of [...Object.values(DEPENDENCY_ENV), ...Object.keys(settingsEnv)]) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(settingsEnv)) vi.stubEnv(name, value);
  for (const dependency of dependenciesOf(spec)) vi.stubEnv(DEPENDENCY_ENV[dependency], `${dependency}-resource`);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('wire(entry)', () => {
  it.each(Object.entries(FUNCTIONS as Record<string, FunctionSpec>))(
    '%s cold-starts with only the variables of its uses and the settings',
    (_name, spec) => {
      stubEnvOf(spec);
      expect(() => wire(spec)).not.toThrow();
    },
  );

  it('a dependency outside the entry’s uses throws on use, pointing at the function table', () => {
    stubEnvOf(FUNCTIONS.heartbeat);
    const deps = wire(FUNCTIONS.heartbeat);
    expect(deps.brokers).toBeDefined();
    const touchLog = () => Reflect.get(deps.log, 'read');
    expect(touchLog).toThrow(ConfigError);
    expect(touchLog).toThrow(/'log'.*functions\/function-table\.ts/);
  });

  it('a used dependency whose variable is missing fails the cold start, naming the variable', () => {
    stubEnvOf(FUNCTIONS.consume);
    vi.stubEnv(ENV.logTable, undefined);
    expect(() => wire(FUNCTIONS.consume)).toThrow(ENV.logTable);
  });

  it('every function that reads a log can read diskless batches: it uses the objects bucket, and its wiring needs the bucket\'s variable', () => {
    for (const spec of Object.values(FUNCTIONS as Record<string, FunctionSpec>)) {
      if (spec.uses.log !== undefined) expect(spec.uses.objects, spec.id).toBeDefined();
    }
    stubEnvOf(FUNCTIONS.consume);
    vi.stubEnv(ENV.objectsBucket, undefined);
    expect(() => wire(FUNCTIONS.consume)).toThrow(ENV.objectsBucket);
  });
});
