/** One edge route behind a plain HTTP server on a free port, for testing an API without the data plane. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { EdgeRoute } from '../../edge/edge.js';

/** Started in beforeAll, closed in afterAll; `url()` is valid in between. */
export function useRouteServer(makeRoute: () => EdgeRoute): { url: () => string } {
  let server: http.Server | undefined;
  let url = '';
  beforeAll(async () => {
    const route = makeRoute();
    const started = http.createServer((req, res) => {
      const handler = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x'), req.headers);
      if (handler) void handler(req, res);
      else res.writeHead(404).end();
    });
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(started.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  return { url: () => url };
}
