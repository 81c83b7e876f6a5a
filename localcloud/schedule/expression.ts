/**
 * EventBridge schedule expressions: rate(...) and a minimal cron(...). Cron is
 * AWS's six-field form (minutes hours day-of-month month day-of-week year), in UTC,
 * with numbers, names (JAN, MON), *, ?, ranges, lists and steps. The L, W and #
 * operators are rejected as unsupported (a clear error at deploy time).
 */

export class ScheduleExpressionError extends Error {
  constructor(expression: string, problem: string) {
    super(`Schedule expression "${expression}": ${problem}`);
    this.name = 'ScheduleExpressionError';
  }
}

export type Schedule =
  | { kind: 'rate'; periodMs: number }
  /** Next firing strictly after `after`, or undefined when there is none (past year range). */
  | { kind: 'cron'; next(after: Date): Date | undefined };

const MINUTE_MS = 60_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 24 * 60 * MINUTE_MS };

function parseRate(expression: string, body: string): Schedule {
  const match = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body.trim());
  if (!match) throw new ScheduleExpressionError(expression, 'rate needs "<n> minute(s)|hour(s)|day(s)"');
  const amount = Number(match[1]);
  const singular = match[2].replace(/s$/, '');
  if (amount < 1) throw new ScheduleExpressionError(expression, 'the rate must be at least 1');
  // EventBridge insists on the singular for 1 and the plural otherwise.
  const expected = amount === 1 ? singular : `${singular}s`;
  if (match[2] !== expected) throw new ScheduleExpressionError(expression, `use "${amount} ${expected}"`);
  return { kind: 'rate', periodMs: amount * RATE_UNITS[singular] };
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS: FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS },
  { name: 'year', min: 1970, max: 2199 },
];

/** The set of values a field allows; undefined for "?" (no constraint, the other day field decides). */
function parseField(expression: string, text: string, spec: FieldSpec): Set<number> | undefined {
  const fail = (problem: string): never => {
    throw new ScheduleExpressionError(expression, `${spec.name} "${text}": ${problem}`);
  };
  if (text === '?') return undefined;
  const value = (token: string): number => {
    const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + spec.min : Number(token);
    if (!Number.isInteger(n)) return fail(`"${token}" is not supported (the L, W and # operators are not emulated)`);
    return n >= spec.min && n <= spec.max ? n : fail(`"${token}" is out of range ${spec.min}-${spec.max}`);
  };
  const allowed = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) fail(`bad step "${stepText}"`);
    let [from, to] = [spec.min, spec.max];
    if (range !== '*') {
      const [a, b] = range.split('-');
      from = value(a);
      to = b === undefined ? (stepText === undefined ? from : spec.max) : value(b);
    }
    if (from > to) fail(`range ${range} is empty`);
    for (let n = from; n <= to; n += step) allowed.add(n);
  }
  return allowed;
}

function parseCron(expression: string, body: string): Schedule {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleExpressionError(expression, 'cron needs 6 fields: minutes hours day-of-month month day-of-week year');
  }
  if ((parts[2] === '?') === (parts[4] === '?')) {
    throw new ScheduleExpressionError(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  }
  const [minutes, hours, days, months, weekdays, years] = parts.map((p, i) => parseField(expression, p, FIELDS[i]));
  const dayMatches = (d: Date): boolean =>
    days ? days.has(d.getUTCDate()) : (weekdays?.has(d.getUTCDay() + 1) ?? true);
  const lastYear = Math.max(...(years ?? [FIELDS[5].max]));

  // Walks forward, skipping whole months/days/hours that cannot match: at most a few thousand steps.
  const next = (after: Date): Date | undefined => {
    const t = new Date(Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
    while (t.getUTCFullYear() <= lastYear) {
      if ((years && !years.has(t.getUTCFullYear())) || (months && !months.has(t.getUTCMonth() + 1))) {
        t.setUTCMonth(t.getUTCMonth() + 1, 1);
        t.setUTCHours(0, 0, 0, 0);
      } else if (!dayMatches(t)) {
        t.setUTCDate(t.getUTCDate() + 1);
        t.setUTCHours(0, 0, 0, 0);
      } else if (hours && !hours.has(t.getUTCHours())) {
        t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      } else if (minutes && !minutes.has(t.getUTCMinutes())) {
        t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      } else {
        return t;
      }
    }
    return undefined;
  };
  return { kind: 'cron', next };
}

export function parseScheduleExpression(expression: string): Schedule {
  const match = /^(rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(expression, 'expected rate(...) or cron(...)');
  return match[1] === 'rate' ? parseRate(expression, match[2]) : parseCron(expression, match[2]);
}
