/**
 * The single front door of the local cloud, like LocalStack's :4566: routes it serves
 * itself (the Lambda API) are tried first; DynamoDB and DynamoDB Streams requests go to
 * DynamoDB Local, everything else to moto, unchanged.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FairShare, type CallerStats } from './fair-share.js';
import { sendAwsError } from './http-util.js';
import { callerOf } from './shared/caller.js';
import { UpstreamProxy } from './proxy.js';

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

  private constructor(upstream: string, dynamodb: string, dynamodbMaxInFlight: number) {
    this.proxy = new UpstreamProxy(upstream);
    this.dynamodbProxy = dynamodb === upstream ? this.proxy : new UpstreamProxy(dynamodb);
    this.dynamodbShare = new FairShare(dynamodbMaxInFlight);
  }

  static async start(options: EdgeOptions): Promise<Edge> {
    const edge = new Edge(
      options.upstream,
      options.dynamodb ?? options.upstream,
      options.dynamodbMaxInFlight ?? DEFAULT_DYNAMODB_MAX_IN_FLIGHT,
    );
    try {
      await edge.listen(options.host ?? '127.0.0.1', options.port ?? 4566);
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
    return `http://${this.address.host}:${this.address.port}`;
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
    const method = req.method ?? 'GET';
    const named = callerOf(req.url ?? '/');
    req.url = named.url;
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
      this.proxy.forward(req, res);
      return;
    }
    const cancel = this.dynamodbShare.submit(named.caller, (done) => {
      res.once('close', done); // answered, failed or abandoned: the next request may go
      this.dynamodbProxy.forward(req, res);
    });
    res.once('close', cancel); // abandoned while still waiting
  }
}
