/**
 * The slice of the Lambda REST API (2015-03-31) the edge serves itself, because moto
 * cannot run code: synchronous Invoke, ListFunctions, GetFunction and
 * ListEventSourceMappings, the calls this project's scripts, README and tests make.
 * Every other Lambda call falls through to moto.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { EdgeHandler, EdgeRoute } from '../edge/edge.js';
import { BodyTooLargeError, readBody, sendAwsError, sendBytes, sendJson } from '../edge/http-util.js';
import { logTail } from './invocation-logs.js';
import { eventSourceMappingConfiguration, functionConfiguration } from './shapes.js';
import { functionNameOf } from '../shared/arn.js';
import { TooManyRequestsError, type EventSourceMappingSpec, type LambdaRuntime } from '../types.js';

/** Lambda's limit for a synchronous invocation's request. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** What Lambda's error message names as the largest synchronous response (6 MB plus its envelope). */
const MAX_RESPONSE_BYTES = 6_291_556;
/** Event runs the function in the background (once: no retries); DryRun only checks the request. */
const INVOCATION_TYPES = new Set(['RequestResponse', 'Event', 'DryRun']);

const PAGE_SIZE = { functions: 50, eventSourceMappings: 100 };

/**
 * Deepest nesting of arrays and objects an event may have. Far beyond any real event, and
 * far below what breaks the structured clone that hands the event to its sandbox (a few
 * thousand levels overflow its recursion).
 */
const MAX_EVENT_NESTING = 512;

/** Refuses invalid bytes instead of storing U+FFFD in their place; keeps a BOM, which JSON.parse then refuses, as before. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const BYTE = { quote: 0x22, backslash: 0x5c, openBracket: 0x5b, closeBracket: 0x5d, openBrace: 0x7b, closeBrace: 0x7d };

/** What the API needs of the event source mappings: listing only. */
export interface EventSourceMappingCatalog {
  list(): EventSourceMappingSpec[];
}

export interface LambdaApiOptions {
  runtime: LambdaRuntime;
  eventSourceMappings?: EventSourceMappingCatalog;
  region: string;
  accountId: string;
}

interface ApiCall {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The decoded path parameter (function name or ARN, mapping UUID), when the route has one. */
  param: string;
}

type Action = (call: ApiCall) => Promise<void> | void;

export function lambdaApi(options: LambdaApiOptions): EdgeRoute {
  const api = new LambdaApi(options);
  const routes: Array<[method: string, path: RegExp, action: Action]> = [
    ['POST', /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/, (call) => api.invoke(call)],
    ['GET', /^\/2015-03-31\/functions\/?$/, (call) => api.listFunctions(call)],
    ['GET', /^\/2015-03-31\/functions\/([^/]+)\/?$/, (call) => api.getFunction(call)],
    ['GET', /^\/2015-03-31\/event-source-mappings\/?$/, (call) => api.listEventSourceMappings(call)],
  ];
  return (method, url): EdgeHandler | undefined => {
    for (const [routeMethod, path, action] of routes) {
      const match = routeMethod === method ? path.exec(url.pathname) : null;
      if (match) {
        const param = decodeURIComponent(match[1] ?? '');
        return async (req, res) => action({ req, res, url, param });
      }
    }
    return undefined;
  };
}

class LambdaApi {
  constructor(private readonly options: LambdaApiOptions) {}

  async invoke({ req, res, param }: ApiCall): Promise<void> {
    const { runtime } = this.options;
    const spec = runtime.get(param);
    if (!spec) return this.functionNotFound(res, param);
    const invocationType = headerValue(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (!INVOCATION_TYPES.has(invocationType)) {
      return sendAwsError(res, 400, 'InvalidParameterValueException', `Invocation type ${invocationType} is not one of ${[...INVOCATION_TYPES].join(', ')}`);
    }
    const parsed = await readEvent(req, res);
    if (!parsed) return;
    if (invocationType === 'DryRun') return sendBytes(res, 204, '', { 'x-amzn-RequestId': randomUUID() });
    if (invocationType === 'Event') {
      // Queued and answered at once, as on AWS; unlike AWS, a failed (or throttled) run is not retried (its error is in the function's log).
      void runtime.invoke(spec.name, parsed.event).catch(() => undefined);
      return sendBytes(res, 202, '', { 'x-amzn-RequestId': randomUUID() });
    }
    let result: Awaited<ReturnType<LambdaRuntime['invoke']>>;
    try {
      result = await runtime.invoke(spec.name, parsed.event);
    } catch (err) {
      if (!(err instanceof TooManyRequestsError)) throw err;
      // Lambda's throttle: the SDK reads the type from the header and Reason from the body, and retries.
      return sendJson(res, 429, { Reason: err.reason, Type: 'User', message: 'Rate Exceeded.' }, {
        'x-amzn-errortype': 'TooManyRequestsException',
        'x-amzn-RequestId': randomUUID(),
      });
    }
    const headers: OutgoingHttpHeaders = { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': result.requestId };
    let body = JSON.stringify(result.error ?? result.payload ?? null);
    if (!result.error && Buffer.byteLength(body) > MAX_RESPONSE_BYTES) {
      // As Lambda answers a handler that returned too much: a function error, not the payload.
      body = JSON.stringify({
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        errorType: 'Function.ResponseSizeTooLarge',
      });
      headers['X-Amz-Function-Error'] = 'Unhandled';
    }
    if (result.error) headers['X-Amz-Function-Error'] = 'Unhandled';
    if (headerValue(req, 'x-amz-log-type') === 'Tail') headers['X-Amz-Log-Result'] = logTail(result.logs);
    sendBytes(res, 200, body, headers);
  }

  listFunctions({ res, url }: ApiCall): void {
    const all = this.options.runtime
      .list()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(functionConfiguration);
    const { page, nextMarker } = paginate(all, url, PAGE_SIZE.functions);
    sendJson(res, 200, { Functions: page, ...(nextMarker && { NextMarker: nextMarker }) });
  }

  getFunction({ res, param }: ApiCall): void {
    const spec = this.options.runtime.get(param);
    if (!spec) return this.functionNotFound(res, param);
    sendJson(res, 200, {
      Configuration: functionConfiguration(spec),
      // Not a download URL as in AWS: where the code runs from, which is what one wants locally.
      Code: { RepositoryType: 'S3', Location: pathToFileURL(spec.codeDir).href },
      ...(spec.reservedConcurrency !== undefined && { Concurrency: { ReservedConcurrentExecutions: spec.reservedConcurrency } }),
    });
  }

  listEventSourceMappings({ res, url }: ApiCall): void {
    const functionName = url.searchParams.get('FunctionName');
    const sourceArn = url.searchParams.get('EventSourceArn');
    const matching = (this.options.eventSourceMappings?.list() ?? [])
      .filter((spec) => !functionName || functionNameOf(spec.functionName) === functionNameOf(functionName))
      .filter((spec) => !sourceArn || spec.source.eventSourceArn === sourceArn)
      .map((spec) => this.renderMapping(spec));
    const { page, nextMarker } = paginate(matching, url, PAGE_SIZE.eventSourceMappings);
    sendJson(res, 200, { EventSourceMappings: page, ...(nextMarker && { NextMarker: nextMarker }) });
  }

  private renderMapping(spec: EventSourceMappingSpec): ReturnType<typeof eventSourceMappingConfiguration> {
    const functionArn = this.options.runtime.get(spec.functionName)?.arn ?? this.arnOf(spec.functionName);
    return eventSourceMappingConfiguration(spec, functionArn);
  }

  private functionNotFound(res: ServerResponse, nameOrArn: string): void {
    sendAwsError(res, 404, 'ResourceNotFoundException', `Function not found: ${this.arnOf(nameOrArn)}`);
  }

  private arnOf(nameOrArn: string): string {
    if (nameOrArn.startsWith('arn:')) return nameOrArn;
    const { region, accountId } = this.options;
    return `arn:aws:lambda:${region}:${accountId}:function:${functionNameOf(nameOrArn)}`;
  }
}

/**
 * The invocation payload as JSON; an empty body is `{}`, as in Lambda.
 * Undefined when the payload is unacceptable: the error response is then sent already.
 */
async function readEvent(req: IncomingMessage, res: ServerResponse): Promise<{ event: unknown } | undefined> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_PAYLOAD_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    sendAwsError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    return undefined;
  }
  if (body.length === 0) return { event: {} };
  const refuse = (reason: string): undefined => {
    sendAwsError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${reason}`);
    return undefined;
  };
  let text: string;
  try {
    text = STRICT_UTF8.decode(body);
  } catch {
    return refuse('payload is not valid UTF-8');
  }
  if (nestsDeeperThan(body, MAX_EVENT_NESTING)) {
    return refuse(`payload nests arrays and objects more than ${MAX_EVENT_NESTING} levels deep`);
  }
  try {
    return { event: JSON.parse(text) as unknown };
  } catch (error) {
    return refuse(`Could not parse payload into json: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Whether the JSON text in `bytes` opens more than `limit` arrays and objects at once. One
 * pass with a counter, no recursion, so no depth can overflow the check itself. Strings are
 * skipped; their bytes never look like brackets or quotes, because in UTF-8 every byte of a
 * multi-byte character is >= 0x80. Text that is not JSON is left to JSON.parse.
 */
function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BYTE.backslash) i += 1;
      else if (byte === BYTE.quote) inString = false;
    } else if (byte === BYTE.quote) {
      inString = true;
    } else if (byte === BYTE.openBracket || byte === BYTE.openBrace) {
      depth += 1;
      if (depth > limit) return true;
    } else if (byte === BYTE.closeBracket || byte === BYTE.closeBrace) {
      depth -= 1;
    }
  }
  return false;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Marker is the offset of the next page: the lists are small and sorted, so it stays meaningful. */
function paginate<T>(items: T[], url: URL, cap: number): { page: T[]; nextMarker?: string } {
  const start = Number.parseInt(url.searchParams.get('Marker') ?? '0', 10) || 0;
  const requested = Number.parseInt(url.searchParams.get('MaxItems') ?? String(cap), 10) || cap;
  const end = start + Math.min(Math.max(requested, 1), cap);
  return end < items.length ? { page: items.slice(start, end), nextMarker: String(end) } : { page: items.slice(start) };
}
