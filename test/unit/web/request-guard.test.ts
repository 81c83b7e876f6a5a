/**
 * The console's refusals without a browser: the guard's rules one by one, then the real
 * console server over HTTP (its cloud is a closed port: every check comes before any call).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../client/poll.js';
import { ForbiddenRequestError, isLoopbackHost, MAX_BODY_BYTES, RemoteConsoleRefusedError, RequestGuard } from '../../../web/request-guard.js';
import { startConsoleServer, type ConsoleServer } from '../../../web/server.js';
import { fakeOutputs } from '../client/fake-lambda.js';

const token = 'T'.repeat(43);
const port = 4580;
const loopback = new RequestGuard({ host: '127.0.0.1', port, token });
const json = { 'content-type': 'application/json', 'x-console-token': token };

function check(guard: RequestGuard, method: string, headers: IncomingHttpHeaders, url = '/api/state') {
  return () => guard.check({ method, url, headers });
}

describe('the console request guard', () => {
  it('takes only its own names as Host, with its port (DNS rebinding)', () => {
    expect(check(loopback, 'GET', { host: '127.0.0.1:4580' })).not.toThrow();
    expect(check(loopback, 'GET', { host: 'LOCALHOST:4580' })).not.toThrow();
    for (const host of ['evil.test:4580', '127.0.0.1:4581', '127.0.0.1', 'localhost.evil.test:4580', '[::1]:4580', ''])
      expect(check(loopback, 'GET', { host }), host).toThrow(ForbiddenRequestError);
    expect(check(loopback, 'GET', {})).toThrow(/Host header "" is not this console's address \(localhost:4580 or 127\.0\.0\.1:4580\)/);
    expect(check(new RequestGuard({ host: '::1', port, token }), 'GET', { host: '[::1]:4580' })).not.toThrow();
    expect(check(new RequestGuard({ host: 'localhost', port, token }), 'GET', { host: '[::1]:4580' })).not.toThrow();
  });

  it('takes an Origin only when it is the console\'s own', () => {
    expect(check(loopback, 'GET', { host: '127.0.0.1:4580', origin: 'http://127.0.0.1:4580' })).not.toThrow();
    expect(check(loopback, 'POST', { host: 'localhost:4580', origin: 'http://localhost:4580', ...json })).not.toThrow();
    for (const origin of ['http://evil.example', 'null', 'http://localhost:4580', 'https://127.0.0.1:4580', 'http://127.0.0.1:4581'])
      expect(check(loopback, 'POST', { host: '127.0.0.1:4580', origin, ...json }), origin).toThrow(/only the console's own page may/);
  });

  it('refuses POSTs that are not application/json: those a foreign page can send without a preflight', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined])
      expect(check(loopback, 'POST', { host: '127.0.0.1:4580', ...json, 'content-type': type }), type).toThrow(/application\/json, got/);
    expect(check(loopback, 'POST', { host: '127.0.0.1:4580', ...json, 'content-type': 'Application/JSON; charset=utf-8' })).not.toThrow();
  });

  it('refuses POSTs without this start\'s token', () => {
    const host = '127.0.0.1:4580';
    expect(check(loopback, 'POST', { host, 'content-type': 'application/json' })).toThrow(/X-Console-Token header .* it was missing/);
    expect(check(loopback, 'POST', { host, ...json, 'x-console-token': 'U'.repeat(43) })).toThrow(/it was wrong/);
    expect(check(loopback, 'POST', { host, ...json, 'x-console-token': 'T' })).toThrow(/it was wrong/);
    // GETs on loopback need no token: Host and Origin keep other pages out, and curl keeps working.
    expect(check(loopback, 'GET', { host })).not.toThrow();
  });

  it('off loopback, needs the token on every request, by header, ?token= or the cookie that sets', () => {
    const remote = new RequestGuard({ host: '0.0.0.0', port, token });
    expect(remote.remote).toBe(true);
    const host = 'console.lan:4580';
    expect(check(remote, 'GET', { host }, '/')).toThrow(/needs its token/);
    expect(check(remote, 'GET', { host }, '/?token=wrong')).toThrow(/needs its token/);
    expect(remote.check({ method: 'GET', url: `/?token=${token}`, headers: { host } })).toEqual({ tokenFromQuery: true });
    expect(remote.cookie()).toBe(`console-token-4580=${token}; HttpOnly; SameSite=Strict; Path=/`);
    expect(check(remote, 'GET', { host, cookie: `other=1; console-token-4580=${token}` }, '/api/stream')).not.toThrow();
    expect(check(remote, 'GET', { host, cookie: `console-token-4581=${token}` }, '/api/stream')).toThrow(/needs its token/);
    expect(check(remote, 'POST', { host, ...json }, '/api/brokers')).not.toThrow();
    // A query token proves nothing for an action: it would ride on a cross-site link.
    expect(check(remote, 'POST', { host, 'content-type': 'application/json' }, `/api/brokers?token=${token}`)).toThrow(/needs its token/);
    expect(check(remote, 'POST', { host, ...json, origin: 'http://evil.example' }, '/api/brokers')).toThrow(/only the console's own page may/);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', '127.example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('the console server', () => {
  let server: ConsoleServer;
  let hostHeader: string;

  beforeAll(async () => {
    server = await startConsoleServer({ endpoint: 'http://127.0.0.1:1', outputs: fakeOutputs, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, port: 0, pollIntervalMs: 60_000 });
    hostHeader = `127.0.0.1:${server.port}`;
  });
  afterAll(() => server?.stop());

  interface Answer { status: number; headers: IncomingHttpHeaders; body: string; requestStillSending: boolean }

  /** One request; `body` as a list of chunks is written one by one, and the request is ended only after the answer when `holdOpen`. */
  function send(method: string, path: string, headers: Record<string, string>, body: string | Buffer[] = '', holdOpen = false): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers: { host: hostHeader, ...headers } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const requestStillSending = !outgoing.writableEnded;
          outgoing.destroy();
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'), requestStillSending });
        });
      });
      // The server may close the socket while a refused upload is still being written.
      outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      if (typeof body === 'string') outgoing.end(body);
      else {
        for (const chunk of body) outgoing.write(chunk);
        if (!holdOpen) outgoing.end();
      }
    });
  }

  const action = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'x-console-token': String(server.token), ...extra });

  it('serves its page with this start\'s token in it, to its own names only', async () => {
    expect(server.token).toMatch(/^[\w-]{43}$/);
    const page = await send('GET', '/', {});
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<meta name="console-token" content="${server.token}">`);
    expect(page.headers['set-cookie']).toBeUndefined();

    for (const path of ['/', '/api/state', '/api/stream', '/app.js', '/api/bench', '/bench/failover.svg']) {
      const rebound = await send('GET', path, { host: `evil.test:${server.port}` });
      expect(rebound.status, path).toBe(403);
      expect(JSON.parse(rebound.body), path).toEqual({ ok: false, errorType: 'Forbidden', error: expect.stringMatching(/^refused: the Host header "evil\.test:\d+" is not this console's address/) });
    }
    expect((await send('GET', '/api/state', { origin: 'http://evil.example' })).status).toBe(403);
  });

  it("serves each benchmark's own charts under their fixed names only, as SVGs that may load and run nothing", async () => {
    const list = JSON.parse((await send('GET', '/api/bench', {})).body) as Array<{ name: string; found: boolean; provenance: string; charts: Array<{ file: string }> }>;
    expect(list.map((entry) => entry.name)).toEqual(['failover', 'scale', 'clients', 'throughput', 'latency', 'cost', 'runtime', 'chaos']);
    expect(list.every((entry) => entry.found && entry.provenance.includes('commit'))).toBe(true);
    expect(list.find((entry) => entry.name === 'scale')?.charts.map((chart) => chart.file)).toEqual(['scale.svg', 'scale-served.svg']);

    const chart = await send('GET', '/bench/scale-served.svg', {});
    expect(chart.status).toBe(200);
    expect(chart.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(chart.headers['x-content-type-options']).toBe('nosniff');
    expect(chart.headers['content-security-policy']).toBe("default-src 'none'");
    expect(chart.body).toContain('share of the N partitions served over time');

    // Result files, archived variants and other names are not charts the benchmarks define.
    for (const path of ['/bench/clients-r2.svg', '/bench/scale.json', '/bench/..%2Fpackage.json', '/bench/toString.svg', '/bench/archive/x.svg']) {
      expect((await send('GET', path, {})).status, path).toBe(404);
    }
  });

  it('refuses actions from other pages with 403 and a clear error, and does nothing', async () => {
    const brokerJson = JSON.stringify({ brokerId: 'E' });
    const refused = [
      await send('POST', '/api/brokers', { 'content-type': 'text/plain', 'x-console-token': String(server.token) }, brokerJson),
      await send('POST', '/api/brokers', { 'content-type': 'application/x-www-form-urlencoded' }, brokerJson),
      await send('POST', '/api/brokers', { 'content-type': 'application/json' }, brokerJson),
      await send('POST', '/api/brokers', action({ 'x-console-token': 'x'.repeat(43) }), brokerJson),
      await send('POST', '/api/brokers', action({ origin: 'http://evil.example' }), brokerJson),
      await send('POST', '/api/brokers', action({ host: `evil.test:${server.port}` }), brokerJson),
      await send('OPTIONS', '/api/brokers', { origin: 'http://evil.example', 'access-control-request-method': 'POST' }),
    ];
    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403, 403, 403]);
    for (const answer of refused) {
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ ok: false, errorType: 'Forbidden', error: expect.stringMatching(/^refused: /) });
    }
    expect(server.simulator.list()).toEqual([]);
    expect(server.monitor.snapshot().timeline).toEqual([]);
    // With every check met the request reaches the routes (here: one that does not exist).
    const passed = await send('POST', '/api/nothing', action(), '{}');
    expect(passed.status).toBe(404);
  });

  it('refuses a body over 1 MiB with 413 from its Content-Length, before reading it', async () => {
    const answer = await send('POST', '/api/produce', action({ 'content-length': String(MAX_BODY_BYTES + 1) }), [Buffer.from('{')], true);
    expect(answer.status).toBe(413);
    expect(answer.requestStillSending).toBe(true);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({ ok: false, errorType: 'PayloadTooLarge', error: "refused: the request body is larger than 1048576 bytes (1 MiB), the console's limit" });
  });

  it('refuses a streamed body once it passes 1 MiB, without waiting for the rest', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    // 17 chunks of 64 KiB pass the cap; the upload is never ended, so only the cap can answer it.
    const answer = await send('POST', '/api/produce', action({ 'transfer-encoding': 'chunked' }), Array.from({ length: 17 }, () => chunk), true);
    expect(answer.status).toBe(413);
    expect(answer.requestStillSending).toBe(true);
    expect(JSON.parse(answer.body)).toMatchObject({ errorType: 'PayloadTooLarge' });
    // The console still serves the next request.
    await pollUntil(async () => (await send('GET', '/api/state', {})).status === 200, { timeoutMs: 5000, description: 'the console to answer after a refused upload' });
  });

  it('refuses to listen off loopback unless told to', async () => {
    // A documentation address (TEST-NET-1): were the refusal missing, listening would fail rather than expose anything.
    const offLoopback = startConsoleServer({ endpoint: 'http://127.0.0.1:1', outputs: fakeOutputs, sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, host: '192.0.2.1', port: 0 });
    await expect(offLoopback).rejects.toThrow(RemoteConsoleRefusedError);
    await expect(offLoopback).rejects.toThrow(/--console-host 192\.0\.2\.1 is not a loopback address: .* Pass --console-allow-remote/);
  });
});
