import { describe, expect, it } from 'vitest';
import { parseScheduleExpression, ScheduleExpressionError } from '../../../schedule/expression.js';

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
    ['every minute', 'only rate(...) is emulated'],
    ['cron(0/15 * * * ? *)', 'only rate(...) is emulated'],
  ])('rejects %s', (expression, problem) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(problem);
  });
});
