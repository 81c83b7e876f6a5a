/**
 * The CloudWatch Logs JSON 1.1 API (`X-Amz-Target: Logs_20140328.*`) over the log store,
 * as `aws logs tail` (CLI v2), `aws logs filter-log-events` and `get-log-events` use it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { EdgeHandler, EdgeRoute } from '../edge/edge.js';
import { BodyTooLargeError, readBody, sendJson } from '../edge/http-util.js';
import { isRecord } from '../shared/guards.js';
import { compileFilterPattern, LogsError, sortEvents, type LogEvent, type LogStore } from './store.js';

const MAX_REQUEST_BYTES = 1024 * 1024;
const DEFAULT_LIMIT = 10_000;

export function isLogsRequest(headers: IncomingHttpHeaders): boolean {
  const target = headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith('Logs_20140328.');
}

export function logsApi(store: LogStore): EdgeRoute {
  return (method, _url, headers): EdgeHandler | undefined =>
    method === 'POST' && headers && isLogsRequest(headers)
      ? async (req, res) => {
          const operation = String(req.headers['x-amz-target']).slice('Logs_20140328.'.length);
          let input: Record<string, unknown>;
          try {
            const parsed: unknown = JSON.parse((await readBody(req, MAX_REQUEST_BYTES)).toString('utf8') || '{}');
            if (!isRecord(parsed)) throw new LogsError('SerializationException', 'The request body must be a JSON object');
            input = parsed;
          } catch (err) {
            const message = err instanceof BodyTooLargeError || err instanceof LogsError ? err.message : 'The request body is not valid JSON';
            return sendLogsError(res, new LogsError(err instanceof LogsError ? err.code : 'SerializationException', message));
          }
          const action = LOGS_ACTIONS[operation];
          if (!action) return sendLogsError(res, new LogsError('UnknownOperationException', `Operation ${operation} is not emulated locally`));
          try {
            sendJson(res, 200, action(store, new Input(input)), { 'Content-Type': 'application/x-amz-json-1.1' });
          } catch (err) {
            if (err instanceof LogsError) return sendLogsError(res, err);
            throw err;
          }
        }
      : undefined;
}

function sendLogsError(res: Parameters<typeof sendJson>[0], error: LogsError): void {
  // The JSON protocols read the code from __type in the body.
  sendJson(res, 400, { __type: error.code, message: error.message }, { 'Content-Type': 'application/x-amz-json-1.1' });
}

class Input {
  constructor(private readonly body: Record<string, unknown>) {}

  optString(key: string): string | undefined {
    const value = this.body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new LogsError('InvalidParameterException', `${key} must be a string`);
    return value;
  }

  string(key: string): string {
    const value = this.optString(key);
    if (value === undefined || value === '') {
      throw new LogsError('InvalidParameterException', `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
    }
    return value;
  }

  optNumber(key: string): number | undefined {
    const value = this.body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new LogsError('InvalidParameterException', `${key} must be a number`);
    return value;
  }

  optBoolean(key: string): boolean | undefined {
    const value = this.body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw new LogsError('InvalidParameterException', `${key} must be a boolean`);
    return value;
  }

  optStringList(key: string): string[] | undefined {
    const value = this.body[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
      throw new LogsError('InvalidParameterException', `${key} must be a list of strings`);
    }
    return value;
  }

  events(key: string): LogEvent[] {
    const value = this.body[key];
    if (!Array.isArray(value) || value.length === 0) throw new LogsError('InvalidParameterException', `${key} must be a non-empty list`);
    let last = -Infinity;
    return value.map((event, i) => {
      if (!isRecord(event) || typeof event.timestamp !== 'number' || typeof event.message !== 'string') {
        throw new LogsError('InvalidParameterException', `${key}[${i}] needs a numeric timestamp and a string message`);
      }
      if (event.timestamp < last) throw new LogsError('InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
      last = event.timestamp;
      return { timestamp: event.timestamp, message: event.message };
    });
  }

  limit(max = DEFAULT_LIMIT): number {
    const limit = this.optNumber('limit') ?? max;
    if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new LogsError('InvalidParameterException', `limit must be between 1 and ${max}`);
    return limit;
  }

  /** Our tokens are offsets into the result list. */
  offset(key = 'nextToken'): number {
    const token = this.optString(key);
    if (token === undefined) return 0;
    const offset = Number(token.replace(/^[fb]\//, ''));
    if (!Number.isInteger(offset) || offset < 0) throw new LogsError('InvalidParameterException', `The ${key} is not valid`);
    return offset;
  }
}

function arnOf(group: string): string {
  return `arn:aws:logs:us-east-1:123456789012:log-group:${group}:*`;
}

type LogsAction = (store: LogStore, input: Input) => Record<string, unknown>;

const LOGS_ACTIONS: Record<string, LogsAction> = {
  CreateLogGroup(store, input) {
    store.createLogGroup(input.string('logGroupName'));
    return {};
  },
  DeleteLogGroup(store, input) {
    store.deleteLogGroup(input.string('logGroupName'));
    return {};
  },
  CreateLogStream(store, input) {
    store.createLogStream(input.string('logGroupName'), input.string('logStreamName'));
    return {};
  },
  DeleteLogStream(store, input) {
    store.deleteLogStream(input.string('logGroupName'), input.string('logStreamName'));
    return {};
  },
  PutRetentionPolicy(store, input) {
    const days = input.optNumber('retentionInDays');
    if (days === undefined || !Number.isInteger(days) || days < 1) throw new LogsError('InvalidParameterException', 'retentionInDays must be a positive integer');
    store.putRetentionPolicy(input.string('logGroupName'), days);
    return {};
  },
  PutLogEvents(store, input) {
    store.putLogEvents(input.string('logGroupName'), input.string('logStreamName'), input.events('logEvents'));
    return { nextSequenceToken: '1' };
  },
  DescribeLogGroups(store, input) {
    const groups = store.describeLogGroups(input.optString('logGroupNamePrefix'));
    const start = input.offset();
    const limit = input.limit(50);
    const page = groups.slice(start, start + limit);
    return {
      logGroups: page.map((g) => ({
        logGroupName: g.name,
        creationTime: g.creationTime,
        retentionInDays: g.retentionInDays,
        arn: arnOf(g.name),
        logGroupArn: arnOf(g.name).replace(/:\*$/, ''),
        storedBytes: 0,
        metricFilterCount: 0,
      })),
      ...(start + limit < groups.length ? { nextToken: String(start + limit) } : {}),
    };
  },
  DescribeLogStreams(store, input) {
    const group = input.string('logGroupName');
    const prefix = input.optString('logStreamNamePrefix');
    const byTime = input.optString('orderBy') === 'LastEventTime';
    const streams = store
      .describeLogStreams(group)
      .filter((s) => prefix === undefined || s.name.startsWith(prefix))
      .map((s) => {
        const events = sortEvents(s.events);
        return {
          logStreamName: s.name,
          creationTime: s.creationTime,
          firstEventTimestamp: events[0]?.timestamp,
          lastEventTimestamp: events.at(-1)?.timestamp,
          lastIngestionTime: events.at(-1)?.ingestionTime,
          arn: `${arnOf(group).replace(/:\*$/, '')}:log-stream:${s.name}`,
          storedBytes: 0,
        };
      })
      .sort((a, b) => (byTime ? (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) : a.logStreamName.localeCompare(b.logStreamName)));
    if (input.optBoolean('descending')) streams.reverse();
    const start = input.offset();
    const limit = input.limit(50);
    return { logStreams: streams.slice(start, start + limit), ...(start + limit < streams.length ? { nextToken: String(start + limit) } : {}) };
  },
  GetLogEvents(store, input) {
    const startTime = input.optNumber('startTime') ?? 0;
    const endTime = input.optNumber('endTime') ?? Number.MAX_SAFE_INTEGER;
    const events = store
      .streamEvents(input.string('logGroupName'), input.string('logStreamName'))
      .filter((e) => e.timestamp >= startTime && e.timestamp < endTime);
    const limit = input.limit();
    const fromHead = input.optBoolean('startFromHead') ?? false;
    // Tokens are offsets from the start; without a token, the newest page unless startFromHead.
    const start = input.optString('nextToken') === undefined && !fromHead ? Math.max(0, events.length - limit) : input.offset();
    const end = Math.min(events.length, start + limit);
    return {
      events: events.slice(start, end).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
      // As on AWS, the forward token at the end repeats when there is nothing newer: clients stop on a repeat.
      nextForwardToken: `f/${end}`,
      nextBackwardToken: `b/${Math.max(0, start - limit)}`,
    };
  },
  FilterLogEvents(store, input) {
    const group = input.optString('logGroupName') ?? input.optString('logGroupIdentifier');
    if (group === undefined) throw new LogsError('InvalidParameterException', 'logGroupName or logGroupIdentifier is required');
    const name = group.startsWith('arn:') ? group.replace(/^arn:[^:]+:logs:[^:]*:[^:]*:log-group:/, '').replace(/:\*$/, '') : group;
    const startTime = input.optNumber('startTime') ?? 0;
    const endTime = input.optNumber('endTime') ?? Number.MAX_SAFE_INTEGER;
    const matches = compileFilterPattern(input.optString('filterPattern'));
    const prefix = input.optString('logStreamNamePrefix');
    const events = store
      .groupEvents(name, input.optStringList('logStreamNames'))
      .filter((e) => (prefix === undefined || e.stream.startsWith(prefix)) && e.timestamp >= startTime && e.timestamp <= endTime && matches(e.message));
    const start = input.offset();
    const limit = input.limit();
    const page = events.slice(start, start + limit);
    return {
      events: page.map((e) => ({ logStreamName: e.stream, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: String(e.seq) })),
      searchedLogStreams: [],
      ...(start + limit < events.length ? { nextToken: String(start + limit) } : {}),
    };
  },
};
