/**
 * The single front door of the local cloud, like LocalStack's :4566: routes it serves
 * itself (the Lambda API) are tried first; everything else goes to moto unchanged.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendAwsError } from './http-util.js';
import { UpstreamProxy } from './proxy.js';

/** Handles one request that a route claimed. */
export type EdgeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Claims a request by returning its handler, or passes (undefined). Matching must not read the body. */
export type EdgeRoute = (method: string, url: URL) => EdgeHandler | undefined;

export interface EdgeOptions {
  /** Default 4566 (LocalStack's port, so existing tooling finds it); 0 picks a free one. */
  port?: number;
  host?: string;
  /** Base URL of moto, which serves whatever no route claims. */
  upstream: string;
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
  private address = { host: '', port: 0 };

  private constructor(upstream: string) {
    this.proxy = new UpstreamProxy(upstream);
  }

  static async start(options: EdgeOptions): Promise<Edge> {
    const edge = new Edge(options.upstream);
    try {
      await edge.listen(options.host ?? '127.0.0.1', options.port ?? 4566);
    } catch (error) {
      edge.proxy.close();
      throw error;
    }
    return edge;
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
    this.proxy.close();
    await closed;
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
    const url = new URL(req.url ?? '/', 'http://edge');
    for (const route of this.routes) {
      const handler = route(method, url);
      if (!handler) continue;
      handler(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (res.headersSent) res.destroy();
        else sendAwsError(res, 500, 'ServiceException', message);
      });
      return;
    }
    this.proxy.forward(req, res);
  }
}
