import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../../../lambda/sandbox.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { REGION } from '../../../testing/aws.js';

/** Parsed, not built by recursion: JSON.parse copes with any depth, the structured clone does not. */
const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

describe('Sandbox', () => {
  const sandboxes: Sandbox[] = [];

  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.terminate()));
  });

  function newSandbox(): Sandbox {
    const sandbox = new Sandbox(fixtureFunction('echo', 'echo'), { region: REGION, awsEndpoint: 'http://127.0.0.1:4566' }, 1, () => {});
    sandboxes.push(sandbox);
    return sandbox;
  }

  it('ends an invocation whose event cannot be handed to the worker (100,000 deep) with a clear error, and takes the next one at once', async () => {
    const sandbox = newSandbox();
    const logs: string[] = [];

    const refused = await sandbox.run({ requestId: 'deep', event: { x: nested(100_000) }, onLog: (text) => logs.push(text) });

    expect(refused).toMatchObject({
      ok: false,
      error: { errorType: 'InvalidRequestContentException', errorMessage: expect.stringMatching(/could not be handed to the function \(RangeError: .*\); is it nested too deeply\?/) },
    });
    expect(logs.join('')).toContain('deep The event could not be handed to the function');
    expect(sandbox.isRunning).toBe(false);
    expect(sandbox.alive).toBe(true);
    const next = await sandbox.run({ requestId: 'next', event: { after: 1 }, onLog: () => {} });
    expect(next).toMatchObject({ ok: true });
    expect(JSON.parse((next as { payloadJson: string }).payloadJson)).toMatchObject({ event: { after: 1 } });
  });
});
