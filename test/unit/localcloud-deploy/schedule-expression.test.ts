import { describe, expect, it } from 'vitest';
import { parseScheduleExpression, ScheduleExpressionError, type Schedule } from '../../../localcloud/schedule/expression.js';

const cronNext = (expression: string, after: string): string | undefined => {
  const schedule: Schedule = parseScheduleExpression(expression);
  if (schedule.kind !== 'cron') throw new Error('not cron');
  return schedule.next(new Date(after))?.toISOString();
};

describe('schedule expressions', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
  ])('parses %s', (expression, periodMs) => {
    expect(parseScheduleExpression(expression)).toEqual({ kind: 'rate', periodMs });
  });

  it.each([
    ['rate(1 minutes)', 'use "1 minute"'],
    ['rate(5 minute)', 'use "5 minutes"'],
    ['rate(0 minutes)', 'at least 1'],
    ['rate(1 week)', 'rate needs'],
    ['every minute', 'expected rate(...) or cron(...)'],
  ])('rejects %s', (expression, problem) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(problem);
  });

  it('computes the next cron firing in UTC', () => {
    expect(cronNext('cron(0/15 * * * ? *)', '2030-01-01T10:07:30Z')).toBe('2030-01-01T10:15:00.000Z');
    expect(cronNext('cron(0 12 * * ? *)', '2030-01-01T12:00:00Z')).toBe('2030-01-02T12:00:00.000Z');
    expect(cronNext('cron(30 8 ? * MON-FRI *)', '2030-01-04T09:00:00Z')).toBe('2030-01-07T08:30:00.000Z'); // Fri → Mon
    expect(cronNext('cron(0 0 1 JAN,JUL ? *)', '2030-02-10T00:00:00Z')).toBe('2030-07-01T00:00:00.000Z');
    expect(cronNext('cron(0 0 29 2 ? 2030-2033)', '2030-01-01T00:00:00Z')).toBe('2032-02-29T00:00:00.000Z');
    expect(cronNext('cron(0 0 1 1 ? 2020)', '2030-01-01T00:00:00Z')).toBeUndefined();
  });

  it.each([
    ['cron(0 12 * * * *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(0 12 L * ? *)', 'L, W and # operators are not emulated'],
    ['cron(0 12 ? * 2#1 *)', 'L, W and # operators are not emulated'],
    ['cron(61 * * * ? *)', 'out of range 0-59'],
    ['cron(0 12 * *)', 'cron needs 6 fields'],
  ])('rejects %s', (expression, problem) => {
    expect(() => parseScheduleExpression(expression)).toThrow(problem);
  });
});
