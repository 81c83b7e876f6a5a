/**
 * The live console: a node:http server that serves the page (bundled with esbuild when
 * the server starts) and a JSON + server-sent-events API. Everything it shows or does goes
 * through client/ (the deployed functions and the leadership-event queue); brokers are the
 * console's own BrokerSimulator processes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { BrokerSimulator, registerCredentials } from '../client/broker-simulator.js';
import { LeadershipClient, RemoteFunctionError } from '../client/lambda-client.js';
import type { LeadershipStackOutputs } from '../client/stack-outputs.js';
import { BENCHMARKS, CHART_FILES, describeProvenance, drawBenchmark, type BenchEntry, type BenchmarkName, type DrawnBenchmark } from './bench-charts.js';
import { ClusterMonitor } from './cluster-monitor.js';
import { PlanInputError, PlanUnavailableError } from '../cost/plan.js';
import { planTopic, TopicPlanError } from './topic-plan.js';
import { BodyTooLargeError, ForbiddenRequestError, isLoopbackHost, newConsoleToken, readBodyCapped, RemoteConsoleRefusedError, RequestGuard } from './request-guard.js';

const pageDir = fileURLToPath(new URL('./page/', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ConsoleServerOptions {
  endpoint: string;
  region?: string;
  outputs: LeadershipStackOutputs;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Loopback unless told otherwise: the console can kill brokers. */
  host?: string;
  /** Serve on a non-loopback `host` (refused without it); every request then needs the token. */
  allowRemote?: boolean;
  /** 0 picks a free port. */
  port?: number;
  /** Adopt brokers someone else started (the seed demo's) so the page can kill them. */
  simulator?: BrokerSimulator;
  /** Where the benchmarks write their results (bench-results/). */
  benchResultsDir?: string;
  pollIntervalMs?: number;
}

export interface ConsoleServer {
  /** Off loopback, with `?token=`: the page's first request has to prove the token. */
  url: string;
  port: number;
  /** This start's secret: the served page sends it with every action. */
  token: string;
  /** Listening off loopback (--console-allow-remote). */
  remote: boolean;
  monitor: ClusterMonitor;
  /** The console's own brokers (started from the page). */
  simulator: BrokerSimulator;
  stop(): Promise<void>;
}

/** A user mistake the console itself catches (malformed JSON, an unknown action); 400 like a function's refusal. */
class BadRequest extends Error {}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) throw new RemoteConsoleRefusedError(host);
  const client = new LeadershipClient(options.outputs, { endpoint: options.endpoint, region: options.region });
  const sqs = new SQSClient({ endpoint: options.endpoint, region: options.region ?? process.env.AWS_REGION ?? 'us-east-1' });
  const heartbeatErrors = new Map<string, Error>();
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    // The console is the admin of the brokers it starts: each gets a credential from RegisterBroker.
    credentials: registerCredentials(client),
    // A cloud restarted empty forgot every registration: the console registers its brokers again.
    renewRefusedCredentials: true,
    onHeartbeat: (brokerId) => heartbeatErrors.delete(brokerId),
    // Failures while the cloud is down are the banner's business; a refused first heartbeat is the form's.
    onError: (brokerId, error) => heartbeatErrors.set(brokerId, error),
  });
  const simulators = [simulator, ...(options.simulator ? [options.simulator] : [])];
  const monitor = new ClusterMonitor({
    client,
    sqs,
    queueUrl: options.outputs.LeadershipEventsQueueUrl,
    simulators,
    endpoint: options.endpoint,
    sessionTimeoutMs: options.sessionTimeoutMs,
    pollIntervalMs: options.pollIntervalMs,
  });
  const benchDir = options.benchResultsDir ?? join(repoRoot, 'bench-results');
  const assets = await bundlePage();

  const streams = new Set<ServerResponse>();
  const push = () => {
    const data = `data: ${JSON.stringify(monitor.snapshot())}\n\n`;
    for (const stream of streams) stream.write(data);
  };
  monitor.onChange(push);
  // Lease countdowns move even when nothing else does; the page interpolates between pushes.
  const ticker = setInterval(push, 1000);

  const actions = new ConsoleActions(client, simulators, monitor, heartbeatErrors);

  const token = newConsoleToken();
  // Set once listening: the Host it checks names the port, which may be a free one picked then.
  let guard: RequestGuard | undefined = undefined;

  const server: Server = createServer((request, response) => {
    void route(request, response).catch((error: unknown) => {
      if (error instanceof ForbiddenRequestError) return sendJson(response, 403, { ok: false, errorType: 'Forbidden', error: `refused: ${error.message}` });
      if (error instanceof BodyTooLargeError) {
        // Closing the connection is what stops the client's upload; keep-alive would read it all.
        response.setHeader('connection', 'close');
        return sendJson(response, 413, { ok: false, errorType: 'PayloadTooLarge', error: `refused: ${error.message}` });
      }
      const status = error instanceof RemoteFunctionError || error instanceof BadRequest ? 400 : 502;
      const message = error instanceof BadRequest ? error.message : monitor.explain(actionName(request), error);
      const errorType = error instanceof RemoteFunctionError ? error.errorType : error instanceof BadRequest ? 'BadRequest' : ((error as Error).name ?? 'Error');
      if (!response.headersSent) sendJson(response, status, { ok: false, errorType, error: message });
      else response.end();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!guard) throw new ForbiddenRequestError('the console is still starting');
    const { tokenFromQuery } = guard.check(request);
    const url = new URL(request.url ?? '/', 'http://console');
    const path = url.pathname;
    if (request.method === 'GET') {
      if (path === '/' || path === '/index.html') {
        if (tokenFromQuery) response.setHeader('set-cookie', guard.cookie());
        return sendText(response, 200, assets.html.replace(TOKEN_PLACEHOLDER, token), 'text/html; charset=utf-8');
      }
      if (path === '/app.js') return sendText(response, 200, assets.js, 'text/javascript; charset=utf-8');
      if (path === '/style.css') return sendText(response, 200, assets.css, 'text/css; charset=utf-8');
      if (path === '/api/state') return sendJson(response, 200, monitor.snapshot());
      if (path === '/api/stream') return openStream(request, response);
      const chartPath = /^\/bench\/([\w.-]+\.svg)$/.exec(path);
      if (chartPath) return sendBenchChart(response, benchDir, chartPath[1]);
      if (path === '/api/bench') return sendJson(response, 200, await Promise.all(BENCHMARKS.map((name) => benchEntry(benchDir, name))));
      if (path === '/api/plan') return sendJson(response, 200, { ok: true, result: await planFor(url.searchParams) });
      return sendJson(response, 404, { ok: false, error: `no such page: ${path}` });
    }
    if (request.method === 'POST') {
      const body = parseJson(await readBodyCapped(request));
      const brokerAction = /^\/api\/brokers\/([^/]+)\/(kill|pause|resume|revive|shutdown)$/.exec(path);
      let result: unknown;
      if (brokerAction) result = await actions.broker(decodeURIComponent(brokerAction[1]), brokerAction[2] as BrokerVerb);
      else if (path === '/api/brokers') result = await actions.startBroker(body);
      else if (path === '/api/topics') result = await actions.createTopic(body);
      else if (path === '/api/produce') result = await actions.produce(body);
      else if (path === '/api/consume') result = await actions.consume(body);
      else return sendJson(response, 404, { ok: false, error: `no such action: ${path}` });
      void monitor.refresh();
      return sendJson(response, 200, { ok: true, result });
    }
    sendJson(response, 405, { ok: false, error: `${request.method} is not supported` });
  }

  async function planFor(query: URLSearchParams) {
    try {
      return await planTopic(query, monitor.topics(), monitor.liveBrokerCount(), benchDir);
    } catch (error) {
      if (error instanceof PlanInputError || error instanceof PlanUnavailableError || error instanceof TopicPlanError) throw new BadRequest(error.message);
      throw error;
    }
  }

  function openStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 500\ndata: ${JSON.stringify(monitor.snapshot())}\n\n`);
    streams.add(response);
    request.on('close', () => streams.delete(response));
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve((server.address() as AddressInfo).port));
  });
  guard = new RequestGuard({ host, port, token });
  monitor.start();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/${guard.remote ? `?token=${token}` : ''}`;
  let stopping: Promise<void> | undefined;

  return {
    url,
    port,
    token,
    remote: guard.remote,
    monitor,
    simulator,
    stop() {
      stopping ??= stopServer();
      return stopping;
    },
  };

  async function stopServer(): Promise<void> {
    clearInterval(ticker);
    await monitor.stop();
    for (const stream of streams) stream.end();
    // An open page reconnects its event stream at once; close its connections rather than wait for them.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await simulator.stop();
    client.close();
    sqs.destroy();
  }
}

type BrokerVerb = 'kill' | 'pause' | 'resume' | 'revive' | 'shutdown';

/**
 * What the page's buttons and forms do. Values are passed to the functions as typed (a
 * number if it reads as one), so a bad one is refused by the function with its own error
 * and nothing is written.
 */
class ConsoleActions {
  constructor(
    private readonly client: LeadershipClient,
    private readonly simulators: BrokerSimulator[],
    private readonly monitor: ClusterMonitor,
    private readonly heartbeatErrors: Map<string, Error>,
  ) {}

  private find(brokerId: string) {
    for (const simulator of this.simulators) {
    const broker = simulator.list().find((candidate) => candidate.id === brokerId && candidate.incarnation !== undefined);
    if (broker) return { simulator, broker };
    }
    return undefined;
  }

  async broker(brokerId: string, verb: BrokerVerb): Promise<unknown> {
    const found = this.find(brokerId);
    if (!found) {
    const names = this.simulators.flatMap((simulator) => simulator.list().filter((b) => b.incarnation !== undefined).map((b) => b.id));
    throw new BadRequest(`broker "${brokerId}" is not one of the console's simulated brokers (${names.join(', ') || 'none'}); start it from the page first`);
    }
    const { simulator, broker: known } = found;
    return this.logged(`${verb} ${brokerId}`, async () => {
    switch (verb) {
      case 'kill': {
        const killed = await simulator.kill(brokerId);
        this.monitor.noteKilled(brokerId, killed.leaseDeadlineMs);
        this.monitor.noteStopped(brokerId, false);
        return { ...killed, note: `last heartbeat accepted ${Date.now() - killed.lastAckedHeartbeatAt} ms ago; lease lapses at ${new Date(killed.leaseDeadlineMs).toISOString()}` };
      }
      case 'pause':
        simulator.pause(brokerId);
        return { paused: brokerId };
      case 'resume':
        await simulator.resume(brokerId);
        this.monitor.noteStopped(brokerId, false);
        return { resumed: brokerId };
      case 'revive':
        await simulator.revive(brokerId);
        this.monitor.noteStopped(brokerId, false);
        return { revived: brokerId };
      case 'shutdown': {
        // The process stops heartbeating first, so no heartbeat re-registers the lease the shutdown deletes.
        const incarnation = known.incarnation;
        if (incarnation === undefined) throw new BadRequest(`broker "${brokerId}" has no accepted heartbeat yet`);
        if (known.status === 'running') await simulator.kill(brokerId);
        this.monitor.noteShutdownRequested(brokerId);
        const result = await this.client.controlledShutdown(brokerId, incarnation, simulator.credentialOf(brokerId));
        this.monitor.noteStopped(brokerId, true);
        return result;
      }
    }
    });
  }

  startBroker(body: Record<string, unknown>): Promise<unknown> {
    const brokerId = typeof body.brokerId === 'string' ? body.brokerId.trim() : '';
    const found = this.find(brokerId);
    if (found && found.broker.status !== 'dead') throw new BadRequest(`broker "${brokerId}" is already running (or paused: resume it)`);
    if (found) return this.broker(brokerId, 'revive');
    const own = this.simulators[0];
    return this.logged(`start broker ${brokerId}`, async () => {
    this.heartbeatErrors.delete(brokerId);
    await own.start([brokerId]);
    if (own.list().find((broker) => broker.id === brokerId)?.incarnation === undefined) {
      // The heartbeat function refused the first heartbeat (a bad id, or the cloud is down): nothing registered, stop retrying.
      own.pause(brokerId);
      throw this.heartbeatErrors.get(brokerId) ?? new Error(`the first heartbeat of "${brokerId}" was not accepted`);
    }
    this.monitor.noteStopped(brokerId, false);
    return { started: brokerId };
    });
  }

  createTopic(body: Record<string, unknown>): Promise<unknown> {
    const request = {
    topic: body.topic,
    partitions: numeric(body.partitions),
    replicationFactor: numeric(body.replicationFactor),
    ...(blank(body.minInsyncReplicas) ? {} : { minInsyncReplicas: numeric(body.minInsyncReplicas) }),
    ...(body.uncleanLeaderElection === undefined ? {} : { uncleanLeaderElection: body.uncleanLeaderElection }),
    ...(blank(body.compressionType) ? {} : { compressionType: body.compressionType }),
    ...(blank(body.storage) ? {} : { storage: body.storage }),
    };
    return this.logged(`create topic ${String(body.topic)}`, () => this.client.createTopic(request as Parameters<LeadershipClient['createTopic']>[0]));
  }

  produce(body: Record<string, unknown>): Promise<unknown> {
    const lines = typeof body.records === 'string' ? body.records.split('\n').filter((line) => line.trim() !== '') : body.records;
    // "key:value" per line, as the CLI's --key-separator : reads stdin.
    const records = Array.isArray(lines)
    ? lines.map((line) => {
        if (typeof line !== 'string') return line as unknown;
        const at = line.indexOf(':');
        return at < 0 ? { key: null, value: line } : { key: line.slice(0, at), value: line.slice(at + 1) };
      })
    : lines;
    const request = { topic: body.topic, partition: numeric(body.partition), records };
    return this.logged(`produce to ${String(body.topic)}-${String(body.partition)}`, () => this.client.produce(request as Parameters<LeadershipClient['produce']>[0]));
  }

  consume(body: Record<string, unknown>): Promise<unknown> {
    const request = {
    topic: body.topic,
    partition: numeric(body.partition),
    ...(blank(body.offset) ? {} : { offset: numeric(body.offset) }),
    ...(blank(body.maxRecords) ? {} : { maxRecords: numeric(body.maxRecords) }),
    };
    return this.logged(`consume ${String(body.topic)}-${String(body.partition)}`, () => this.client.consume(request as Parameters<LeadershipClient['consume']>[0]));
  }

  /** Puts the action on the timeline at the time it was asked for, so it reads before the events it caused. */
  private async logged<T>(what: string, act: () => Promise<T>): Promise<T> {
    const at = Date.now();
    try {
    const result = await act();
    this.monitor.recordAction(what, true, at);
    return result;
    } catch (error) {
    this.monitor.recordAction(error instanceof BadRequest ? `${what}: ${error.message}` : this.monitor.explain(what, error), false, at);
    throw error;
    }
  }
}

function blank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** "3" → 3; anything else goes through untouched so the function names what is wrong with it. */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

/** Names the function behind a route, so an error reads "the produce function: UnknownTopicError: ...". */
function actionName(request: IncomingMessage): string {
  const path = request.url ?? '';
  if (path.startsWith('/api/topics')) return 'the create-topic function';
  if (path.startsWith('/api/produce')) return 'the produce function';
  if (path.startsWith('/api/consume')) return 'the consume function';
  if (path.endsWith('/shutdown')) return 'the controlled-shutdown function';
  if (path.startsWith('/api/brokers')) return 'the heartbeat function';
  return `${request.method} ${path}`;
}

function parseJson(bytes: Buffer): Record<string, unknown> {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new BadRequest(`the request body is not a JSON object: ${(error as Error).message}`);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function sendText(response: ServerResponse, status: number, text: string, contentType: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(text);
}

type ReadBenchmark = { drawn: DrawnBenchmark; provenance: string } | { problem: string };

/** Reads and draws bench-results/<name>.json afresh, so a benchmark that just finished shows at once. */
async function readBenchmark(dir: string, name: BenchmarkName): Promise<ReadBenchmark> {
  let text: string;
  try {
    text = await readFile(join(dir, `${name}.json`), 'utf8');
  } catch {
    return { problem: `No ${name} results yet: run \`npm run ${name === 'chaos' ? 'chaos' : `bench:${name}`}\`.` };
  }
  let result: unknown;
  try {
    result = JSON.parse(text) as unknown;
  } catch (error) {
    return { problem: `${name}.json is not JSON: ${(error as Error).message}` };
  }
  try {
    return { drawn: drawBenchmark(name, result), provenance: describeProvenance(result) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

async function benchEntry(dir: string, name: BenchmarkName): Promise<BenchEntry> {
  const read = await readBenchmark(dir, name);
  if ('problem' in read) return { name, found: false, summary: read.problem, provenance: '', charts: [] };
  return { name, found: true, summary: read.drawn.summary, provenance: read.provenance, charts: read.drawn.charts.map(({ file, title }) => ({ file, title })) };
}

/** Only the chart files the benchmarks define are served, each drawn from its result, never a file read by the requested name. */
async function sendBenchChart(response: ServerResponse, dir: string, file: string): Promise<void> {
  const name = Object.hasOwn(CHART_FILES, file) ? CHART_FILES[file] : undefined;
  if (!name) return sendJson(response, 404, { ok: false, error: `no benchmark chart named ${file}` });
  const read = await readBenchmark(dir, name);
  const chart = 'drawn' in read ? read.drawn.charts.find((candidate) => candidate.file === file) : undefined;
  if (!chart) return sendJson(response, 404, { ok: false, error: 'problem' in read ? read.problem : `${name}.json yields no ${file}` });
  // An SVG opened on its own is a document: it may run nothing and load nothing.
  response.writeHead(200, {
    'content-type': 'image/svg+xml; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
  });
  response.end(chart.svg);
}

/** Where index.html carries the token; replaced as the page is served. */
const TOKEN_PLACEHOLDER = '__CONSOLE_TOKEN__';

/** The page's TypeScript, bundled in memory: nothing built is committed, nothing is fetched. */
async function bundlePage(): Promise<{ html: string; css: string; js: string }> {
  const [html, css, bundle] = await Promise.all([
    readFile(join(pageDir, 'index.html'), 'utf8'),
    readFile(join(pageDir, 'style.css'), 'utf8'),
    build({ entryPoints: [join(pageDir, 'app.ts')], bundle: true, write: false, format: 'esm', target: 'es2022', logLevel: 'silent' }),
  ]);
  return { html, css, js: bundle.outputFiles[0].text };
}
