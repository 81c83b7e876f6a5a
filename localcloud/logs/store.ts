/**
 * CloudWatch Logs of the embedded cloud: log groups, streams and events in memory. The
 * Lambda runtime writes every invocation here, as Lambda does: group
 * `/aws/lambda/<function>`, one stream per execution environment's code version,
 * START / output / END / REPORT as events. Its API is api.ts.
 */

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

/**
 * Events kept per stream, oldest dropped first: a cloud left running for a day with
 * brokers heartbeating every second would otherwise hold every line it ever logged.
 */
const MAX_EVENTS_PER_STREAM = 20_000;
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

export function sortEvents<T extends StoredEvent>(events: T[]): T[] {
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
