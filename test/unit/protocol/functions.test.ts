import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../functions/function-table.js';
import { LeadershipClient, type LambdaTransport } from '../../../client/lambda-client.js';
import { asLeadershipOutputs } from '../../../client/stack-outputs.js';
import { FUNCTION_PROTOCOL, RESOURCE_OUTPUTS, STACK_OUTPUT_NAMES, type FunctionKey, type LeadershipStackOutputs } from '../../../protocol/functions.js';

const KEYS = Object.keys(FUNCTION_PROTOCOL) as FunctionKey[];

describe('the function map', () => {
  it('is what the function table deploys: the same keys, outputs and audiences', () => {
    expect(Object.keys(FUNCTIONS)).toEqual(KEYS);
    for (const key of KEYS) {
      expect(FUNCTIONS[key].output, key).toBe(FUNCTION_PROTOCOL[key].output);
      expect(FUNCTIONS[key].audience, key).toBe(FUNCTION_PROTOCOL[key].audience);
    }
  });

  it('leaves to their trigger alone exactly the functions a stream or a schedule drives', () => {
    for (const key of KEYS) expect(FUNCTION_PROTOCOL[key].audience === 'internal', key).toBe(FUNCTIONS[key].trigger.kind !== 'invoke');
  });

  it('derives one output per function, table and queue, each named once', () => {
    expect(STACK_OUTPUT_NAMES).toHaveLength(KEYS.length + Object.keys(RESOURCE_OUTPUTS).length);
    expect(new Set(STACK_OUTPUT_NAMES).size).toBe(STACK_OUTPUT_NAMES.length);
  });

  it('refuses stack outputs that lack one, naming it', () => {
    const outputs = Object.fromEntries(STACK_OUTPUT_NAMES.map((name) => [name, `${name}-value`]));
    expect(asLeadershipOutputs('S', outputs)).toBe(outputs);
    const { SweepFunctionName: _, ...withoutSweep } = outputs;
    expect(() => asLeadershipOutputs('S', withoutSweep)).toThrow(/lacks outputs: SweepFunctionName/);
  });
});

describe('the client', () => {
  it('invokes every function by its key, under the name its output gives', async () => {
    const outputs = Object.fromEntries(STACK_OUTPUT_NAMES.map((name) => [name, `deployed-${name}`])) as LeadershipStackOutputs;
    const called: string[] = [];
    const transport: LambdaTransport = (functionName) => {
      called.push(functionName);
      return Promise.resolve({ payload: '{}' });
    };
    const client = new LeadershipClient(outputs, { transport });
    await client.invoke('describe', {});
    await client.invoke('autoRebalance', {});
    await client.fetch({ partitions: [] });
    expect(called).toEqual(['deployed-DescribeFunctionName', 'deployed-AutoRebalanceFunctionName', 'deployed-ConsumeFunctionName']);
    for (const key of KEYS) expect(client.functionName(key)).toBe(`deployed-${FUNCTION_PROTOCOL[key].output}`);
  });
});
