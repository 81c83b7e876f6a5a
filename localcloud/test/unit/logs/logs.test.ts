import { describe, expect, it } from 'vitest';
import { useRouteServer } from '../../support/serve-route.js';
import { logsApi } from '../../../logs/api.js';
import { compileFilterPattern, LogStore } from '../../../logs/store.js';

describe('CloudWatch Logs filter patterns', () => {
  it.each([
    ['', 'anything', true],
    ['ERROR', 'an ERROR here', true],
    ['ERROR', 'an error here', false],
    ['ERROR timeout', 'ERROR: timeout', true],
    ['ERROR timeout', 'ERROR only', false],
    ['"Task timed out"', 'Task timed out after 3.00 seconds', true],
    ['"{\\"n\\":1}"', 'handling {"n":1}', true],
    ['REPORT -Init', 'REPORT RequestId: x', true],
    ['REPORT -Init', 'REPORT RequestId: x Init Duration: 3 ms', false],
    ['?START ?END', 'END RequestId: x', true],
    ['?START ?END', 'REPORT RequestId: x', false],
  ])('%s against %s: %s', (pattern, message, expected) => {
    expect(compileFilterPattern(pattern)(message)).toBe(expected);
  });

  it('refuses JSON and space-delimited patterns instead of half-matching them', () => {
    expect(() => compileFilterPattern('{ $.level = "ERROR" }')).toThrow(/not supported locally/);
    expect(() => compileFilterPattern('[ip, user]')).toThrow(/not supported locally/);
  });
});

describe('the Logs API (JSON 1.1) over a LogStore', () => {
  const store = new LogStore();

  const server = useRouteServer(() => logsApi(store));

  async function call(operation: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(server.url(), {
      method: 'POST',
      headers: { 'x-amz-target': `Logs_20140328.${operation}`, 'content-type': 'application/x-amz-json-1.1' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('serves what the runtime wrote: groups, streams, events in time order, filtered', async () => {
    store.write('/aws/lambda/f', 's1', [
      { timestamp: 1000, message: 'START RequestId: a' },
      { timestamp: 1001, message: 'hello' },
    ]);
    store.write('/aws/lambda/f', 's2', [{ timestamp: 1000.5, message: 'START RequestId: b' }]);
    const groups = await call('DescribeLogGroups', { logGroupNamePrefix: '/aws/lambda/' });
    expect(groups.json.logGroups).toEqual([expect.objectContaining({ logGroupName: '/aws/lambda/f' })]);
    const filtered = await call('FilterLogEvents', { logGroupName: '/aws/lambda/f', filterPattern: 'START' });
    expect((filtered.json.events as Array<{ message: string; logStreamName: string }>).map((e) => [e.logStreamName, e.message])).toEqual([
      ['s1', 'START RequestId: a'],
      ['s2', 'START RequestId: b'],
    ]);
    const head = await call('GetLogEvents', { logGroupName: '/aws/lambda/f', logStreamName: 's1', startFromHead: true, limit: 1 });
    expect(head.json.events).toEqual([expect.objectContaining({ message: 'START RequestId: a' })]);
    const next = await call('GetLogEvents', { logGroupName: '/aws/lambda/f', logStreamName: 's1', nextToken: head.json.nextForwardToken });
    expect(next.json.events).toEqual([expect.objectContaining({ message: 'hello' })]);
  });

  it('answers bad input with the AWS error and writes nothing', async () => {
    await call('CreateLogGroup', { logGroupName: 'g' });
    await call('CreateLogStream', { logGroupName: 'g', logStreamName: 's' });
    const outOfOrder = await call('PutLogEvents', {
      logGroupName: 'g',
      logStreamName: 's',
      logEvents: [
        { timestamp: 2, message: 'b' },
        { timestamp: 1, message: 'a' },
      ],
    });
    expect(outOfOrder).toMatchObject({ status: 400, json: { __type: 'InvalidParameterException' } });
    expect(store.streamEvents('g', 's')).toEqual([]);
    expect(await call('CreateLogGroup', { logGroupName: 'g' })).toMatchObject({ status: 400, json: { __type: 'ResourceAlreadyExistsException' } });
    expect(await call('FilterLogEvents', { logGroupName: 'nope' })).toMatchObject({ status: 400, json: { __type: 'ResourceNotFoundException' } });
    expect(await call('PutLogEvents', '{not json')).toMatchObject({ status: 400, json: { __type: 'SerializationException' } });
    expect(await call('StartLiveTail', {})).toMatchObject({ status: 400, json: { __type: 'UnknownOperationException' } });
  });
});
