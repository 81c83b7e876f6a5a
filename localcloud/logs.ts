/**
 * CloudWatch Logs of the embedded cloud: log groups, streams and events in memory, and
 * the JSON 1.1 API (`X-Amz-Target: Logs_20140328.*`) that `aws logs tail` (CLI v2),
 * `aws logs filter-log-events` and `get-log-events` use. The Lambda runtime writes every
 * invocation here, as Lambda does: group `/aws/lambda/<function>`, one stream per
 * execution environment's code version, START / output / END / REPORT as events.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { EdgeHandler, EdgeRoute } from './edge.js';
import { BodyTooLargeError, readBody, sendJson } from './http-util.js';
import { isRecord } from './shared/guards.js';

export interface LogEvent {
  timestamp: number;
  message: string;
}

interface StoredEvent extends LogEvent {
  ingestionTime: number;
  /** Order of arrival, so that events of one millisecond keep their order. */
  seq: number;
}

interface LogStream {
  name: string;
  creationTime: number;
  events: StoredEvent[];
}

interface LogGroup {
  name: string;
  creationTime: number;
  retentionInDays?: number;
  streams: Map<string, LogStream>;
}

/** What the Lambda runtime needs: somewhere to write an invocation's events. */
export interface FunctionLogWriter {
  write(groupName: string, streamName: string, events: LogEvent[]): void;
}

/** What the deployer needs (AWS::Logs::LogGroup): groups made and removed by a template. */
export interface LogGroupRegistry {
  /** Creates the group, or keeps it (and its events) if it exists; records its retention (undefined: never expire). */
  putLogGroup(name: string, retentionInDays: number | undefined): void;
  /** Removes the group and its events; a group already gone is not an error. */
  removeLogGroup(name: string): void;
}

export class LogsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_REQUEST_BYTES = 1024 * 1024;
/**
 * Events kept per stream, oldest dropped first: a cloud left running for a day with
 * brokers heartbeating every second would otherwise hold every line it ever logged.
 */
const MAX_EVENTS_PER_STREAM = 20_000;
const DEFAULT_LIMIT = 10_000;
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;

export class LogStore implements FunctionLogWriter, LogGroupRegistry {
  private readonly groups = new Map<string, LogGroup>();
  private seq = 0;

  /** Lambda creates its function's group on first write; so does this. */
  write(groupName: string, streamName: string, events: LogEvent[]): void {
    const group = this.groups.get(groupName) ?? this.addGroup(groupName);
    const stream = group.streams.get(streamName) ?? this.addStream(group, streamName);
    this.append(stream, events);
  }

  private append(stream: LogStream, events: LogEvent[]): void {
    const now = Date.now();
    for (const event of events) stream.events.push({ ...event, ingestionTime: now, seq: this.seq++ });
    if (stream.events.length > MAX_EVENTS_PER_STREAM) stream.events.splice(0, stream.events.length - MAX_EVENTS_PER_STREAM);
  }

  createLogGroup(name: string): void {
    checkName(name, GROUP_NAME, 'logGroupName');
    if (this.groups.has(name)) throw new LogsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    this.addGroup(name);
  }

  /** The deployer's (AWS::Logs::LogGroup): idempotent, unlike the API's CreateLogGroup. */
  putLogGroup(name: string, retentionInDays: number | undefined): void {
    checkName(name, GROUP_NAME, 'logGroupName');
    const group = this.groups.get(name) ?? this.addGroup(name);
    group.retentionInDays = retentionInDays;
  }

  removeLogGroup(name: string): void {
    this.groups.delete(name);
  }

  deleteLogGroup(name: string): void {
    this.group(name);
    this.groups.delete(name);
  }

  createLogStream(groupName: string, streamName: string): void {
    checkName(streamName, STREAM_NAME, 'logStreamName');
    const group = this.group(groupName);
    if (group.streams.has(streamName)) throw new LogsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    this.addStream(group, streamName);
  }

  deleteLogStream(groupName: string, streamName: string): void {
    this.stream(groupName, streamName);
    this.group(groupName).streams.delete(streamName);
  }

  putLogEvents(groupName: string, streamName: string, events: LogEvent[]): void {
    this.append(this.stream(groupName, streamName), events);
  }

  putRetentionPolicy(groupName: string, days: number): void {
    this.group(groupName).retentionInDays = days;
  }

  describeLogGroups(prefix: string | undefined): LogGroup[] {
    return [...this.groups.values()].filter((g) => prefix === undefined || g.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  }

  describeLogStreams(groupName: string): LogStream[] {
    return [...this.group(groupName).streams.values()];
  }

  /** One stream's events in time order. */
  streamEvents(groupName: string, streamName: string): StoredEvent[] {
    return sortEvents(this.stream(groupName, streamName).events);
  }

  /** Events of a group (optionally some streams), in time order, with their stream's name. */
  groupEvents(groupName: string, streamNames?: string[]): Array<StoredEvent & { stream: string }> {
    const group = this.group(groupName);
    const wanted = streamNames && streamNames.length > 0 ? new Set(streamNames) : undefined;
    const events: Array<StoredEvent & { stream: string }> = [];
    for (const stream of group.streams.values()) {
      if (!wanted || wanted.has(stream.name)) for (const event of stream.events) events.push({ ...event, stream: stream.name });
    }
    return sortEvents(events);
  }

  private group(name: string): LogGroup {
    const group = this.groups.get(name);
    if (!group) throw new LogsError('ResourceNotFoundException', 'The specified log group does not exist.');
    return group;
  }

  private stream(groupName: string, streamName: string): LogStream {
    const stream = this.group(groupName).streams.get(streamName);
    if (!stream) throw new LogsError('ResourceNotFoundException', 'The specified log stream does not exist.');
    return stream;
  }

  private addGroup(name: string): LogGroup {
    const group: LogGroup = { name, creationTime: Date.now(), streams: new Map() };
    this.groups.set(name, group);
    return group;
  }

  private addStream(group: LogGroup, name: string): LogStream {
    const stream: LogStream = { name, creationTime: Date.now(), events: [] };
    group.streams.set(name, stream);
    return stream;
  }
}

function sortEvents<T extends StoredEvent>(events: T[]): T[] {
  return [...events].sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
}

function checkName(name: string, pattern: RegExp, field: string): void {
  if (!pattern.test(name)) throw new LogsError('InvalidParameterException', `1 validation error detected: Value '${name}' at '${field}' failed to satisfy constraint`);
}

/**
 * CloudWatch's filter pattern for unstructured events: terms that must all appear
 * (case-sensitive), `"quoted phrases"`, `-term` for must-not, `?term` for any-of. JSON
 * (`{ $.x = 1 }`) and space-delimited (`[a, b]`) patterns are refused, not half-matched.
 */
export function compileFilterPattern(pattern: string | undefined): (message: string) => boolean {
  const text = (pattern ?? '').trim();
  if (text === '' || text === '""') return () => true;
  if (text.startsWith('{') || text.startsWith('[') || text.startsWith('%')) {
    throw new LogsError('InvalidParameterException', `Filter pattern ${text} is not supported locally (only terms, "phrases", -term and ?term)`);
  }
  const terms = [...text.matchAll(/([-?]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)].map((m) => ({
    op: m[1],
    term: m[2] === undefined ? m[3] : m[2].replace(/\\(.)/g, '$1'),
  }));
  const any = terms.filter((t) => t.op === '?');
  const all = terms.filter((t) => t.op === '');
  const none = terms.filter((t) => t.op === '-');
  return (message) =>
    all.every((t) => message.includes(t.term)) &&
    none.every((t) => !message.includes(t.term)) &&
    (any.length === 0 || any.some((t) => message.includes(t.term)));
}

// The API

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
