/**
 * The single front door of the local cloud, like LocalStack's :4566: routes it serves
 * itself (the Lambda API) are tried first; DynamoDB and DynamoDB Streams requests go to
 * DynamoDB Local, everything else to moto, unchanged.
 *
 * It answers loopback clients only (see loopbackRefusal): it is an unauthenticated admin
 * API that deploys and runs code as the user, so no web page may reach it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChaosFaults, DynamoDbFault } from '../chaos.js';
import { FairShare, type CallerStats } from './fair-share.js';
import { readBody, sendAwsError, sendJson, sendRefusal } from './http-util.js';
import { callerOf } from '../shared/caller.js';
import { UpstreamProxy } from './proxy.js';
import { billAnswer, ItemSizer, meterMotoRequest } from '../billing/metered-requests.js';
import { planBilling } from '../billing/dynamodb-billing.js';
import type { UsageMeter } from '../billing/usage-meter.js';

/**
 * DynamoDB requests at DynamoDB Local at once; the rest wait their caller's turn (see
 * fair-share.ts). One: DynamoDB Local serializes its in-memory database anyway, and
 * concurrent requests only contend for its lock (an 80-produce burst took 9 s with 4 in
 * flight, 7.4 s with 1, and heartbeats waited up to 400 ms instead of 220).
 */
const DEFAULT_DYNAMODB_MAX_IN_FLIGHT = 1;

/** Handles one request that a route claimed. */
export type EdgeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Claims a request by returning its handler, or passes (undefined). Matching must not read the body. */
export type EdgeRoute = (method: string, url: URL, headers?: IncomingMessage['headers']) => EdgeHandler | undefined;

export interface EdgeOptions {
  /** Default 4566 (LocalStack's port, so existing tooling finds it); 0 picks a free one. */
  port?: number;
  /** A loopback address to listen on: `127.0.0.1` (default), `::1` or `localhost`; anything else is refused. */
  host?: string;
  /** Base URL of moto, which serves whatever no route claims and is not DynamoDB. */
  upstream: string;
  /** Base URL of the DynamoDB (+ Streams) data plane; default: `upstream`. */
  dynamodb?: string;
  /** DynamoDB requests forwarded at once, shared fairly between callers (fair-share.ts). Default 1. */
  dynamodbMaxInFlight?: number;
}

/**
 * Which service a request is for, by the headers alone (the body streams through): the
 * JSON protocol's X-Amz-Target (`DynamoDB_20120810.PutItem`, `DynamoDBStreams_20120810.GetRecords`),
 * else the SigV4 credential scope (`Credential=AKID/20261201/us-east-1/dynamodb/aws4_request`).
 * Streams are signed with the service name `dynamodb` too.
 */
export function isDynamoDbRequest(headers: IncomingMessage['headers']): boolean {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.startsWith('DynamoDB_20120810.') || target.startsWith('DynamoDBStreams_20120810.');
  const authorization = headers.authorization;
  return typeof authorization === 'string' && /Credential=[^/,\s]+\/[^/]+\/[^/]+\/dynamodb\/aws4_request/.test(authorization);
}

/** What the edge may listen on: it must never be reachable from another host. */
const LOOPBACK_BIND_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Host header names a loopback client reaches the edge by; anything else is a DNS name rebound to 127.0.0.1. */
const LOOPBACK_HOST_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Fetch metadata of a request a browser made on behalf of another site's page. Such a
 * request can lack Origin (an <img>, a <script>, a GET form), so Origin alone misses it.
 */
const FOREIGN_FETCH_SITES = new Set(['cross-site', 'same-site']);

/** moto's management API (reset, state dump) answers at any path moto sees starting so. */
const MOTO_API_PREFIX = '/moto-api';

/** Longest part of a header echoed in a refusal: enough to recognize it, not a reflection channel. */
const ECHO_LIMIT = 100;

export class EdgeHostNotLoopbackError extends Error {
  override readonly name = 'EdgeHostNotLoopbackError';
  constructor(readonly host: string) {
    super(
      `the edge listens on loopback only (127.0.0.1, ::1 or localhost), not on "${host}": ` +
        'it deploys and runs code and reads and resets every table and queue, with no authentication.',
    );
  }
}

/**
 * Why the edge refuses a request before any route or upstream sees it, or undefined.
 * The AWS SDKs, the AWS CLI and the CDK CLI send no Origin and name the endpoint they
 * were given (a loopback address) in Host; a web page's request carries an Origin (or
 * Sec-Fetch-Site), and a DNS-rebinding page's request carries its own host name.
 */
export function loopbackRefusal(req: IncomingMessage, edgePort: number): string | undefined {
  const { host, origin } = req.headers;
  if (!isLoopbackHost(host, edgePort)) {
    return (
      `the local cloud's edge answers only Host localhost, 127.0.0.1 or [::1] (port ${edgePort}), ` +
      `got ${host === undefined ? 'no Host' : `Host: ${echo(host)}`}: a DNS name pointed at loopback is refused`
    );
  }
  if (origin !== undefined) {
    return (
      `the local cloud's edge refuses requests from web pages (Origin: ${echo(origin)}): it is an unauthenticated ` +
      'admin API for loopback clients such as the AWS SDKs and CLIs, which send no Origin'
    );
  }
  const fetchSite = req.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && FOREIGN_FETCH_SITES.has(fetchSite.toLowerCase())) {
    return `the local cloud's edge refuses requests a browser makes for another site's page (Sec-Fetch-Site: ${echo(fetchSite)})`;
  }
  if (req.method === 'OPTIONS') {
    return "the local cloud's edge answers no OPTIONS (CORS preflight): browsers may not call it";
  }
  return undefined;
}

/** Host is `name` or `name:port`, name one of LOOPBACK_HOST_NAMES and port the edge's own. */
function isLoopbackHost(host: string | undefined, edgePort: number): boolean {
  if (host === undefined) return false;
  const match = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(host.toLowerCase());
  if (!match) return false;
  const [, name = '', port] = match;
  return LOOPBACK_HOST_NAMES.has(name) && (port === undefined || Number(port) === edgePort);
}

/**
 * Whether moto would take `url` for its management API. Checked on the path as moto
 * routes it (percent-decoded), with repeated slashes merged, and on the URL's parsed path.
 */
function namesMotoApi(url: string): boolean {
  const rawPath = url.split('?', 1)[0] ?? '';
  let parsedPath = '';
  try {
    parsedPath = new URL(url, 'http://edge').pathname;
  } catch {
    // Unparseable: the raw path alone decides.
  }
  return [rawPath, parsedPath].some((path) => mergeSlashes(percentDecoded(path)).startsWith(MOTO_API_PREFIX));
}

/** Never throws: each %XX becomes its byte as a Latin-1 character, which is all an ASCII prefix test needs. */
function percentDecoded(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function mergeSlashes(path: string): string {
  return path.replace(/\/{2,}/g, '/');
}

function isMalformedUrlError(error: unknown): boolean {
  return error instanceof URIError || (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_INVALID_URL');
}

function echo(value: string): string {
  return value.length > ECHO_LIMIT ? `${value.slice(0, ECHO_LIMIT)}...` : value;
}

export class EdgePortInUseError extends Error {
  override readonly name = 'EdgePortInUseError';
  constructor(readonly port: number) {
    super(
      `port ${port} is already in use (another local cloud or LocalStack?). ` +
        'Stop it, or start the local cloud on another port (port: 0 picks a free one).',
    );
  }
}

export class Edge {
  private readonly routes: EdgeRoute[] = [];
  private readonly server = http.createServer((req, res) => this.dispatch(req, res));
  private readonly proxy: UpstreamProxy;
  private readonly dynamodbProxy: UpstreamProxy;
  private readonly dynamodbShare: FairShare;
  private address = { host: '', port: 0 };
  private chaos?: ChaosFaults;
  private meter?: UsageMeter;
  private readonly itemSizer: ItemSizer;

  private constructor(upstream: string, dynamodb: string, dynamodbMaxInFlight: number) {
    this.proxy = new UpstreamProxy(upstream);
    this.dynamodbProxy = dynamodb === upstream ? this.proxy : new UpstreamProxy(dynamodb);
    this.dynamodbShare = new FairShare(dynamodbMaxInFlight);
    this.itemSizer = new ItemSizer(dynamodb);
  }

  static async start(options: EdgeOptions): Promise<Edge> {
    const host = options.host ?? '127.0.0.1';
    if (!LOOPBACK_BIND_HOSTS.has(host)) throw new EdgeHostNotLoopbackError(host);
    const edge = new Edge(
      options.upstream,
      options.dynamodb ?? options.upstream,
      options.dynamodbMaxInFlight ?? DEFAULT_DYNAMODB_MAX_IN_FLIGHT,
    );
    try {
      await edge.listen(host, options.port ?? 4566);
    } catch (error) {
      edge.closeProxies();
      throw error;
    }
    return edge;
  }

  /** Per caller: the DynamoDB requests served through the edge, their queueing and service time (FairShare.stats). */
  dynamodbStats(): Record<string, CallerStats> {
    return this.dynamodbShare.stats();
  }

  get port(): number {
    return this.address.port;
  }

  get url(): string {
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${host}:${this.address.port}`;
  }

  /** The fault mode (chaos.ts): DynamoDB requests may be throttled, failed, refused for a conflict or delayed. */
  injectFaults(chaos: ChaosFaults): void {
    this.chaos = chaos;
  }

  /** Bills what the edge serves from now on (usage-meter.ts): DynamoDB units, SQS and S3 requests. */
  meterUsage(meter: UsageMeter): void {
    this.meter = meter;
  }

  /** Routes added later take part from the next request on (the runtime needs the edge URL first). */
  use(route: EdgeRoute): void {
    this.routes.push(route);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive connections would otherwise hold the port until their idle timeout.
    this.server.closeAllConnections();
    this.closeProxies();
    await closed;
  }

  private closeProxies(): void {
    this.proxy.close();
    this.dynamodbProxy.close();
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new EdgePortInUseError(port) : error),
      );
      this.server.listen(port, host, () => {
        this.address = { host, port: (this.server.address() as AddressInfo).port };
        resolve();
      });
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const refusal = loopbackRefusal(req, this.address.port);
    if (refusal) {
      sendRefusal(res, 403, 'AccessDeniedException', refusal);
      return;
    }
    try {
      this.route(req, res);
    } catch (error) {
      // Thrown while matching, before any handler ran: a path that is no URL (a bad %-escape) is the client's fault.
      const message = error instanceof Error ? error.message : String(error);
      if (isMalformedUrlError(error)) sendAwsError(res, 400, 'InvalidRequestException', `malformed request path: ${message}`);
      else sendAwsError(res, 500, 'ServiceException', message);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const named = callerOf(req.url ?? '/');
    req.url = named.url;
    if (namesMotoApi(req.url)) {
      sendRefusal(res, 403, 'AccessDeniedException', "moto's management API (/moto-api/: reset, state dump) is not served through the local cloud's edge");
      return;
    }
    const url = new URL(req.url, 'http://edge');
    for (const route of this.routes) {
      const handler = route(method, url, req.headers);
      if (!handler) continue;
      handler(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (res.headersSent) res.destroy();
        else sendAwsError(res, 500, 'ServiceException', message);
      });
      return;
    }
    if (!isDynamoDbRequest(req.headers)) {
      if (this.meter) meterMotoRequest(this.meter, named.caller, method, url, req.headers);
      this.proxy.forward(req, res);
      return;
    }
    const operation = dynamodbOperation(req.headers);
    const fault = operation === undefined ? undefined : this.chaos?.dynamodbFault(operation);
    if (fault && fault.kind !== 'latency' && fault.kind !== 'internal-error-after-write') {
      void answerWithFault(req, res, fault).catch(() => res.destroy());
      return;
    }
    let abandoned = false;
    res.once('close', () => (abandoned = true));
    const forward = () => {
      // A caller gone while its request was delayed (a sandbox killed under it) takes no slot: its 'close' has fired already.
      if (abandoned) return;
      const cancel = this.dynamodbShare.submit(named.caller, (done) => {
        res.once('close', done); // answered, failed or abandoned: the next request may go
        // The table applied the write; the answer is lost and a 500 sent instead, as DynamoDB may.
        const replaceAnswer =
          fault?.kind === 'internal-error-after-write' ? () => sendDynamoDbError(res, 500, 'InternalServerError', 'Internal server error') : undefined;
        if (this.meter && operation !== undefined) {
          void this.forwardMetered(this.meter, named.caller, operation, req, res, replaceAnswer).catch((error: unknown) => {
            if (res.headersSent) res.destroy();
            else sendAwsError(res, 500, 'ServiceException', error instanceof Error ? error.message : String(error));
          });
        } else this.dynamodbProxy.forward(req, res, replaceAnswer);
      });
      res.once('close', cancel); // abandoned while still waiting
    };
    if (fault?.kind === 'latency') setTimeout(forward, fault.delayMs);
    else forward();
  }

  /**
   * Forwards a DynamoDB request asking for its ConsumedCapacity, and bills the answer's units
   * plus what DynamoDB Local leaves out or sums (dynamodb-billing.ts): transactions item by item, refused writes.
   */
  private async forwardMetered(
    meter: UsageMeter,
    caller: string,
    operation: string,
    req: IncomingMessage,
    res: ServerResponse,
    replaceAnswer: (() => void) | undefined,
  ): Promise<void> {
    const body = await readBody(req, 16 * 1024 * 1024);
    const plan = planBilling(operation, body);
    if (!plan) {
      meter.recordDynamoDb(caller, operation, []);
      this.dynamodbProxy.forward(req, res, replaceAnswer, { body });
      return;
    }
    const sizer = this.itemSizer;
    // Sized before the transaction runs: a member bills the larger of its item before and after.
    const sizesBefore = await Promise.all(plan.transaction.map((member) => sizer.sizeBefore(member)));
    this.dynamodbProxy.forward(req, res, replaceAnswer, {
      body: plan.body,
      onAnswer: (status, answer) => billAnswer(meter, sizer, { caller, operation, plan, sizesBefore, status, answer }),
    });
  }
}

/** The action of a DynamoDB (not Streams) JSON request, e.g. `UpdateItem`. */
function dynamodbOperation(headers: IncomingMessage['headers']): string | undefined {
  const target = headers['x-amz-target'];
  const prefix = 'DynamoDB_20120810.';
  return typeof target === 'string' && target.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}

/** DynamoDB's JSON 1.0 error shape: the SDK reads the code from `__type`. */
function sendDynamoDbError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { __type: `com.amazonaws.dynamodb.v20120810#${code}`, message, ...extra });
}

/** A fault answered without reaching DynamoDB Local: nothing is written. */
async function answerWithFault(req: IncomingMessage, res: ServerResponse, fault: DynamoDbFault): Promise<void> {
  const body = await readBody(req, 16 * 1024 * 1024);
  const operation = dynamodbOperation(req.headers);
  switch (fault.kind) {
    case 'throttle':
      sendDynamoDbError(res, 400, fault.errorType, fault.errorType === 'ThrottlingException' ? 'Rate of requests exceeds the allowed throughput.' : 'The level of configured provisioned throughput for the table was exceeded.');
      return;
    case 'internal-error':
      sendDynamoDbError(res, 500, 'InternalServerError', 'Internal server error');
      return;
    case 'transaction-conflict': {
      if (operation !== 'TransactWriteItems') {
        sendDynamoDbError(res, 400, 'TransactionConflictException', 'Transaction is ongoing for the item');
        return;
      }
      const items = (JSON.parse(body.toString('utf8')) as { TransactItems?: unknown[] }).TransactItems ?? [];
      const conflicted = Math.floor(fault.pick * Math.max(1, items.length));
      const reasons = items.map((_, index) =>
        index === conflicted ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
      );
      const codes = reasons.map((reason) => reason.Code).join(', ');
      sendDynamoDbError(res, 400, 'TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`, {
        CancellationReasons: reasons,
      });
      return;
    }
    default:
      throw new Error(`fault ${fault.kind} is not answered at the edge`);
  }
}
