import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScheduleExpressionError, Scheduler, UnknownScheduleError } from '../../../schedule/scheduler.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('Scheduler', () => {
  it('invokes every target with the constant input', async () => {
    const runtime = new FakeLambdaRuntime();
    const scheduler = new Scheduler(runtime);
    scheduler.upsert({ name: 'r', scheduleExpression: 'rate(1 minute)', targetFunctionNames: ['a', 'b'], input: { x: 1 } });

    const results = await scheduler.invokeNow('r');

    expect(results).toHaveLength(2);
    expect(runtime.invocations.map((i) => [i.functionName, i.payload])).toEqual([
      ['a', { x: 1 }],
      ['b', { x: 1 }],
    ]);
  });

  it('sends an EventBridge Scheduled Event when the rule has no input', async () => {
    const runtime = new FakeLambdaRuntime();
    const scheduler = new Scheduler(runtime, { region: 'eu-west-1', accountId: '111122223333' });
    scheduler.upsert({ name: 'tick', scheduleExpression: 'rate(5 minutes)', targetFunctionNames: ['a'] });

    await scheduler.invokeNow('tick');

    expect(runtime.invocations[0].payload).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '111122223333',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:111122223333:rule/tick'],
      detail: {},
    });
  });

  it('fires a rate schedule every period once started, and no more after stop', async () => {
    vi.useFakeTimers();
    const runtime = new FakeLambdaRuntime();
    const scheduler = new Scheduler(runtime);
    scheduler.upsert({ name: 'r', scheduleExpression: 'rate(1 minute)', targetFunctionNames: ['a'] });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(runtime.invocations).toHaveLength(0); // not started yet

    scheduler.start();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(runtime.invocations).toHaveLength(3);

    await scheduler.stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(runtime.invocations).toHaveLength(3);
  });

  it('rejects a bad expression at upsert and an unknown name at invokeNow', async () => {
    const scheduler = new Scheduler(new FakeLambdaRuntime());
    expect(() => scheduler.upsert({ name: 'x', scheduleExpression: 'cron(0 0 L * ? *)', targetFunctionNames: [] })).toThrow(
      ScheduleExpressionError,
    );
    await expect(scheduler.invokeNow('nope')).rejects.toThrow(UnknownScheduleError);
  });
});
