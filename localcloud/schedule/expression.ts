/**
 * EventBridge schedule expressions: rate(...) only, which is what this project's
 * rules use. CDK renders `Schedule.rate(Duration.minutes(n))` in the largest whole
 * unit (60 minutes → "rate(1 hour)"), so hours and days are reachable from a
 * minutes setting. cron(...) is rejected at deploy time with a clear error.
 */

export class ScheduleExpressionError extends Error {
  constructor(expression: string, problem: string) {
    super(`Schedule expression "${expression}": ${problem}`);
    this.name = 'ScheduleExpressionError';
  }
}

export interface Schedule {
  kind: 'rate';
  periodMs: number;
}

const MINUTE_MS = 60_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };

export function parseScheduleExpression(expression: string): Schedule {
  const rate = /^rate\((.*)\)$/.exec(expression.trim());
  if (!rate) throw new ScheduleExpressionError(expression, 'only rate(...) is emulated');
  const match = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(rate[1].trim());
  if (!match) throw new ScheduleExpressionError(expression, 'rate needs "<n> minute(s)|hour(s)|day(s)"');
  const amount = Number(match[1]);
  const singular = match[2].replace(/s$/, '');
  if (amount < 1) throw new ScheduleExpressionError(expression, 'the rate must be at least 1');
  // EventBridge insists on the singular for 1 and the plural otherwise.
  const expected = amount === 1 ? singular : `${singular}s`;
  if (match[2] !== expected) throw new ScheduleExpressionError(expression, `use "${amount} ${expected}"`);
  return { kind: 'rate', periodMs: amount * RATE_UNITS[singular] };
}
