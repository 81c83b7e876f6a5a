import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../../logs/store.js';
import { FunctionNotFoundError, WorkerLambdaRuntime } from '../../../lambda/runtime.js';
import { TooManyRequestsError } from '../../../types.js';
import { COMMONJS_CODE_DIR, fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { REGION } from '../../../testing/aws.js';

const EDGE = 'http://127.0.0.1:4566';

describe('WorkerLambdaRuntime', () => {
  let runtime: WorkerLambdaRuntime;
  let sinkLines: string[];

  beforeEach(() => {
    sinkLines = [];
    runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: EDGE, logSink: (line) => sinkLines.push(line) });
  });

  afterEach(async () => {
    await runtime.close();
  });

  it('runs an async handler and passes it the event and a Lambda context', async () => {
    const spec = fixtureFunction('echo-fn', 'echo', { timeoutSeconds: 7, memoryMb: 256 });
    runtime.register(spec);

    const result = await runtime.invoke('echo-fn', { hello: 'world' });

    expect(result.error).toBeUndefined();
    expect(result.payload).toMatchObject({
      event: { hello: 'world' },
      awsRequestId: result.requestId,
      functionName: 'echo-fn',
      functionVersion: '$LATEST',
      invokedFunctionArn: spec.arn,
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/echo-fn',
      logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
    });
    const remaining = (result.payload as { remainingTimeMs: number }).remainingTimeMs;
    expect(remaining).toBeGreaterThan(6000);
    expect(remaining).toBeLessThanOrEqual(7000);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('finds a function by name, full ARN, partial ARN or qualified name, and lists it', async () => {
    const spec = fixtureFunction('by-arn', 'echo');
    runtime.register(spec);

    for (const ref of ['by-arn', spec.arn, '123456789012:function:by-arn', `${spec.arn}:$LATEST`]) {
      expect(runtime.get(ref)?.name, ref).toBe('by-arn');
    }
    expect((await runtime.invoke(spec.arn, 1)).payload).toMatchObject({ event: 1 });
    expect(runtime.list().map((fn) => fn.name)).toEqual(['by-arn']);
  });

  it('rejects an invocation of an unknown function', async () => {
    await expect(runtime.invoke('nope', {})).rejects.toBeInstanceOf(FunctionNotFoundError);
  });

  it('reports a thrown error as errorType, errorMessage and trace', async () => {
    runtime.register(fixtureFunction('failing', 'fail'));

    const result = await runtime.invoke('failing', { partition: 7 });

    expect(result.payload).toBeUndefined();
    expect(result.error).toMatchObject({ errorType: 'PartitionNotFound', errorMessage: 'no partition 7' });
    expect(result.error?.trace?.[0]).toBe('PartitionNotFound: no partition 7');
    expect(result.logs).toContain('ERROR\tInvoke Error');
  });

  it("names the function's code in a trace as Lambda does (/var/task), never a host path", async () => {
    const spec = fixtureFunction('failing-paths', 'fail');
    runtime.register(spec);

    const { error } = await runtime.invoke('failing-paths', { partition: 7 });

    const frames = (error?.trace ?? []).filter((line) => /^\s+at /.test(line));
    expect(frames.some((line) => line.includes('/var/task/'))).toBe(true);
    for (const hostPath of [spec.codeDir, process.cwd(), tmpdir()]) {
      expect(frames.filter((line) => line.includes(hostPath))).toEqual([]);
    }
    expect(frames.filter((line) => line.includes('?v='))).toEqual([]);
  });

  it('answers null for a handler that returns nothing, and supports callback handlers', async () => {
    runtime.register(fixtureFunction('nothing', 'nothing'));
    runtime.register(fixtureFunction('callback', 'callback'));

    expect((await runtime.invoke('nothing', {})).payload).toBeNull();
    expect((await runtime.invoke('callback', { value: 42 })).payload).toEqual({ viaCallback: 42 });
  });

  it('terminates a handler that exceeds its timeout, even one that never yields', async () => {
    runtime.register(fixtureFunction('spinner', 'spin', { timeoutSeconds: 1 }));

    const started = Date.now();
    const result = await runtime.invoke('spinner', {});

    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.error).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' });
    expect(result.logs).toMatch(new RegExp(`${result.requestId} Task timed out after 1.00 seconds`));
  });

  it('keeps working after a sandbox times out or exits', async () => {
    runtime.register(fixtureFunction('sleeper', 'sleepy', { timeoutSeconds: 1 }));
    runtime.register(fixtureFunction('exiter', 'exit'));

    expect((await runtime.invoke('sleeper', { ms: 1500 })).error?.errorType).toBe('Sandbox.Timedout');
    expect((await runtime.invoke('sleeper', { ms: 1 })).payload).toEqual({ slept: 1 });
    const exited = await runtime.invoke('exiter', {});
    expect(exited.error).toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('exit status 3') });
  });

  it('gives the handler the Lambda environment, with its own variables', async () => {
    const spec = fixtureFunction('env-fn', 'env', { environment: { TABLE_NAME: 'Partitions', AWS_REGION: 'eu-west-1' } });
    runtime.register(spec);

    const env = (await runtime.invoke('env-fn', {})).payload as Record<string, string>;

    expect(env).toMatchObject({
      TABLE_NAME: 'Partitions',
      // reserved: a function cannot override it
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_LAMBDA_FUNCTION_NAME: 'env-fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_ENDPOINT_URL: EDGE,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      LAMBDA_TASK_ROOT: spec.codeDir,
      TZ: ':UTC',
    });
    expect(process.env.TABLE_NAME).toBeUndefined();
  });

  it('captures each invocation log under its own request id, with START, END and REPORT', async () => {
    runtime.register(fixtureFunction('logger', 'logs'));

    const [first, second] = await Promise.all([runtime.invoke('logger', { tag: 'one' }), runtime.invoke('logger', { tag: 'two' })]);

    for (const [result, tag, other] of [[first, 'one', 'two'], [second, 'two', 'one']] as const) {
      const lines = result.logs.trimEnd().split('\n');
      expect(lines[0]).toBe(`START RequestId: ${result.requestId} Version: $LATEST`);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\S+Z\\t${result.requestId}\\tINFO\\thello \\{ tag: '${tag}' \\}$`)));
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`\\t${result.requestId}\\tERROR\\tan error line ${tag}$`)));
      expect(lines).toContain(`raw stdout ${tag}`);
      expect(lines.at(-2)).toBe(`END RequestId: ${result.requestId}`);
      expect(lines.at(-1)).toMatch(new RegExp(`^REPORT RequestId: ${result.requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB`));
      expect(result.logs).not.toContain(other);
    }
    // echoed to the sink, prefixed with the function name
    expect(sinkLines).toContain('[logger] raw stdout one');
    expect(sinkLines).toContain(`[logger] END RequestId: ${first.requestId}`);
  });

  it('reuses a warm sandbox, and reports the cold start only once', async () => {
    runtime.register(fixtureFunction('warm', 'echo'));

    const cold = await runtime.invoke('warm', {});
    const warm = await runtime.invoke('warm', {});

    expect(cold.payload).toMatchObject({ invocationsInThisSandbox: 1 });
    expect(warm.payload).toMatchObject({ invocationsInThisSandbox: 2 });
    expect(cold.logs).toContain('Init Duration:');
    expect(warm.logs).not.toContain('Init Duration:');
  });

  it('runs concurrent invocations in separate sandboxes, in parallel', async () => {
    runtime.register(fixtureFunction('parallel', 'sleepy'));
    await Promise.all([1, 2, 3].map(() => runtime.invoke('parallel', { ms: 1 }))); // warm three sandboxes

    const started = Date.now();
    const results = await Promise.all([1, 2, 3].map(() => runtime.invoke('parallel', { ms: 400 })));

    expect(Date.now() - started).toBeLessThan(1100);
    expect(results.every((result) => result.error === undefined)).toBe(true);
  });

  it('queues invocations beyond the concurrency cap instead of failing them', async () => {
    await runtime.close();
    runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: EDGE, maxConcurrencyPerFunction: 1 });
    runtime.register(fixtureFunction('capped', 'echo'));

    const results = await Promise.all([1, 2, 3].map((n) => runtime.invoke('capped', n)));

    // one sandbox served all three, one after the other
    expect(results.map((result) => (result.payload as { invocationsInThisSandbox: number }).invocationsInThisSandbox)).toEqual([1, 2, 3]);
  });

  it('throttles invocations beyond the reserved concurrency (running or waiting for a sandbox), and frees the slot when one ends', async () => {
    runtime.register(fixtureFunction('reserved', 'sleepy', { reservedConcurrency: 2 }));
    const first = runtime.invoke('reserved', { ms: 300 });
    const second = runtime.invoke('reserved', { ms: 300 });
    const third = runtime.invoke('reserved', { ms: 1 }).catch((error: unknown) => error);
    expect(await third).toBeInstanceOf(TooManyRequestsError);
    expect(await third).toMatchObject({ reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', functionName: 'reserved' });
    expect((await Promise.all([first, second])).every((result) => result.error === undefined)).toBe(true);
    expect((await runtime.invoke('reserved', { ms: 1 })).error).toBeUndefined();
    // A reservation of 0 throttles everything, as on AWS (a way to switch a function off).
    runtime.register(fixtureFunction('off', 'echo', { reservedConcurrency: 0 }));
    await expect(runtime.invoke('off', {})).rejects.toBeInstanceOf(TooManyRequestsError);
    // Without one, the excess waits for a sandbox instead.
    runtime.register(fixtureFunction('unreserved', 'sleepy'));
    const many = await Promise.all(Array.from({ length: 12 }, () => runtime.invoke('unreserved', { ms: 50 })));
    expect(many.every((result) => result.error === undefined)).toBe(true);
  });

  it('writes to the log group its LoggingConfig names, and tells the handler so', async () => {
    await runtime.close();
    const logs = new LogStore();
    runtime = new WorkerLambdaRuntime({ region: REGION, awsEndpoint: EDGE, logWriter: logs });
    runtime.register(fixtureFunction('grouped', 'echo', { logGroup: 'Stack-GroupedLogGroup' }));
    const result = await runtime.invoke('grouped', {});
    expect(result.payload).toMatchObject({ logGroupName: 'Stack-GroupedLogGroup' });
    expect(logs.describeLogGroups(undefined).map((group) => group.name)).toEqual(['Stack-GroupedLogGroup']);
    expect(logs.groupEvents('Stack-GroupedLogGroup').map((event) => event.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^START RequestId: /), expect.stringMatching(/^REPORT RequestId: /)]),
    );
  });

  it('runs new code after a redeploy, without a restart', async () => {
    const codeDir = mkdtempSync(path.join(tmpdir(), 'localcloud-redeploy-'));
    try {
      const deploy = (version: number): void => {
        writeFileSync(path.join(codeDir, 'index.mjs'), `export const handler = async () => ({ version: ${version} });\n`);
        runtime.register(fixtureFunction('redeployed', 'handler', { codeDir }));
      };
      deploy(1);
      expect((await runtime.invoke('redeployed', {})).payload).toEqual({ version: 1 });
      deploy(2);
      expect((await runtime.invoke('redeployed', {})).payload).toEqual({ version: 2 });
    } finally {
      rmSync(codeDir, { recursive: true, force: true });
    }
  });

  it('loads a CommonJS bundle as Lambda does, although the project says "type": "module"', async () => {
    runtime.register(fixtureFunction('cjs', 'handler', { codeDir: COMMONJS_CODE_DIR }));

    expect((await runtime.invoke('cjs', { n: 1 })).payload).toEqual({ loadedAs: 'commonjs', base: 'index.js', event: { n: 1 } });
  });

  it('reports a missing handler or module as Lambda does, and retries the init next time', async () => {
    runtime.register(fixtureFunction('no-export', 'doesNotExist'));
    runtime.register(fixtureFunction('no-module', 'x', { handler: 'missing.handler' }));

    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await runtime.invoke('no-export', {})).error).toMatchObject({
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'index.doesNotExist is undefined or not exported',
      });
    }
    expect((await runtime.invoke('no-module', {})).error).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Error: Cannot find module 'missing'",
    });
  });

  it('refuses a handler whose module is outside the code directory, relative or absolute', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'localcloud-handler-'));
    try {
      const codeDir = path.join(parent, 'code');
      mkdirSync(codeDir);
      writeFileSync(path.join(codeDir, 'index.js'), 'exports.handler = async () => "inside";\n');
      writeFileSync(path.join(parent, 'outside.js'), 'exports.handler = async () => "outside";\n');
      runtime.register(fixtureFunction('relative-escape', 'x', { codeDir, handler: '../outside.handler' }));
      runtime.register(fixtureFunction('absolute-escape', 'x', { codeDir, handler: `${parent}/outside.handler` }));
      runtime.register(fixtureFunction('nested-escape', 'x', { codeDir, handler: 'lib/../../outside.handler' }));

      for (const [name, moduleName] of [
        ['relative-escape', '../outside'],
        ['absolute-escape', `${parent}/outside`],
        ['nested-escape', 'lib/../../outside'],
      ]) {
        const result = await runtime.invoke(name, {});
        expect(result.payload, name).toBeUndefined();
        expect(result.error, name).toMatchObject({
          errorType: 'Runtime.ImportModuleError',
          errorMessage: `Error: Cannot find module '${moduleName}': the handler's module must be inside the function's code directory`,
        });
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('close() ends running invocations and refuses new ones', async () => {
    runtime.register(fixtureFunction('long', 'sleepy', { timeoutSeconds: 30 }));
    const running = runtime.invoke('long', { ms: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));

    await runtime.close();

    expect((await running).error?.errorType).toBe('Runtime.ExitError');
    await expect(runtime.invoke('long', {})).rejects.toBeInstanceOf(FunctionNotFoundError);
  });
});
