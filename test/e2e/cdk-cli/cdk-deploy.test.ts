/**
 * `cdk deploy` into the embedded cloud, as a LocalStack user would do it: the real CDK
 * CLI (cdklocal for bootstrap, plain cdk with AWS_ENDPOINT_URL for the rest, default
 * change-set method) against a cloud on a free port, and the AWS CLI v1 for invoke and
 * logs. Then templates that must fail: a clear status reason, and nothing left behind.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  UpdateStackCommand,
  DescribeStacksCommand,
  paginateDescribeStackEvents,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { ListTablesCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../../localcloud/index.js';
import { repoRoot } from '../../../tools/synth.js';
import { REGION, TEST_CREDENTIALS_ENV, testClientConfig } from '../../../localcloud/testing/aws.js';
import { waitFor } from '../../../localcloud/testing/wait-for.js';
import { synthCliFixture } from './fixture/app.js';

const execFileAsync = promisify(execFile);
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
/** npm start's stack. */
const STACK = 'PartitionLeadership';
const FIXTURE = 'CliFixture';

describe('cdk bootstrap, deploy, update and destroy through the embedded cloud', () => {
  /** cdklocal insists on an S3 endpoint next to AWS_ENDPOINT_URL; plain cdk needs only AWS_ENDPOINT_URL. */
  let cdklocalEnv: NodeJS.ProcessEnv;
  let npmStart: ChildProcess | undefined;
  let npmStartOutput = '';
  let endpoint: string;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let assemblyDir: string;
  let cloudformation: CloudFormationClient;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;

  async function run(command: string, args: string[], runEnv = env): Promise<string> {
    try {
      const { stdout, stderr } = await execFileAsync(command, args, { cwd: repoRoot, env: runEnv, maxBuffer: 32 * 1024 * 1024 });
      return `${stdout}${stderr}`;
    } catch (err) {
      const failed = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`, { cause: err });
    }
  }

  const aws = async (...args: string[]): Promise<unknown> => JSON.parse(await run('aws', ['--output', 'json', ...args])) as unknown;

  async function invoke(functionName: string, payload: unknown): Promise<unknown> {
    const outfile = join(work, 'out.json');
    await run('aws', ['lambda', 'invoke', '--function-name', functionName, '--payload', JSON.stringify(payload), outfile]);
    return JSON.parse(readFileSync(outfile, 'utf8')) as unknown;
  }

  async function stack(name: string): Promise<Stack | undefined> {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: name })).catch(() => ({ Stacks: [] }));
    return Stacks[0];
  }

  const outputsOf = (s: Stack | undefined): Record<string, string | undefined> =>
    Object.fromEntries((s?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue]));

  function writeHandler(message: string): string {
    const dir = join(work, 'hello');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'index.js'),
      `exports.handler = async (event) => { console.log('handling', JSON.stringify(event)); return { message: ${JSON.stringify(message)} }; };\n`,
    );
    return dir;
  }

  function fixtureArgs(version: 1 | 2, codeDir: string): string[] {
    const outdir = join(work, `cdk.out.fixture-${version}`);
    rmSync(outdir, { recursive: true, force: true });
    return ['--app', synthCliFixture(outdir, { stackName: FIXTURE, codeDir, version })];
  }

  /** `npm start -- --no-demo` in its own process (as in a first shell), up once it says so; its output names what went wrong. */
  async function startNpmStart(port: number): Promise<void> {
    const child = spawn(bin('tsx'), ['scripts/start.ts', '--no-demo', '--port', String(port)], {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npmStart = child;
    child.stdout?.on('data', (chunk: Buffer) => (npmStartOutput += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (npmStartOutput += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      () => {
        if (exited) throw new Error(`npm start exited:\n${npmStartOutput}`);
        return npmStartOutput.includes('The cloud stays up until Ctrl-C');
      },
      150_000,
      'npm start to deploy the stack',
      200,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${npmStartOutput}`, { cause: err });
    });
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cdk-cli-'));
    // npm start synthesizes into the repository's cdk.out, which the CLI below deploys again.
    assemblyDir = join(repoRoot, 'cdk.out');
    const port = await findFreePort();
    await startNpmStart(port);
    // `localhost`, as a LocalStack user writes it (the edge listens on 127.0.0.1).
    endpoint = `http://localhost:${port}`;
    const edge = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      ...TEST_CREDENTIALS_ENV,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_CLI_NOTICES: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    cdklocalEnv = { ...env, AWS_ENDPOINT_URL_S3: endpoint };
    cloudformation = new CloudFormationClient(testClientConfig(edge));
    dynamodb = new DynamoDBClient(testClientConfig(edge));
    sqs = new SQSClient(testClientConfig(edge));
  });

  afterAll(async () => {
    cloudformation?.destroy();
    dynamodb?.destroy();
    sqs?.destroy();
    // Ctrl-C, as a user stops it: npm start stops everything it started, then exits.
    if (npmStart && npmStart.exitCode === null) {
      const exited = new Promise((resolve) => npmStart?.once('exit', resolve));
      npmStart.kill('SIGINT');
      await exited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function stackEvents(name: string): Promise<StackEvent[]> {
    const events: StackEvent[] = [];
    for await (const page of paginateDescribeStackEvents({ client: cloudformation }, { StackName: name })) events.push(...(page.StackEvents ?? []));
    return events;
  }

  it('npm start deploys cdk.out as the CloudFormation stack that cdklocal bootstrap + cdk deploy then find unchanged; aws lambda invoke runs it', async () => {
    // The banner's redeploy line targets the local endpoint by itself; a bare `cdk deploy --require-approval never` could reach a real account.
    expect(npmStartOutput).toContain('npm run deploy:local -- --port');
    expect(npmStartOutput).not.toContain('--require-approval never');
    // What `npm start` did at start: the stack is a CloudFormation stack, created from cdk.out in-process.
    const started = await stack(STACK);
    expect(started?.StackStatus).toBe('CREATE_COMPLETE');
    const fromStart = (await stackEvents(STACK)).filter((e) => e.LogicalResourceId === STACK).map((e) => e.ResourceStatus);
    expect(fromStart).toEqual(['CREATE_COMPLETE', 'CREATE_IN_PROGRESS']);

    await run(bin('cdklocal'), ['bootstrap', 'aws://123456789012/us-east-1', '--app', assemblyDir], cdklocalEnv);
    expect((await stack('CDKToolkit'))?.StackStatus).toBe('CREATE_COMPLETE');

    // The same assembly through the CLI: both paths deploy the same stack, so there is nothing to change.
    const output = await run(bin('cdk'), ['deploy', STACK, '--app', assemblyDir, '--require-approval', 'never']);
    expect(output).toMatch(/no changes/i);
    const deployed = await stack(STACK);
    expect(deployed?.StackStatus).toBe('CREATE_COMPLETE');
    const outputs = outputsOf(deployed);
    expect(outputs.LeadershipEventsQueueUrl).toMatch(/\.fifo$/);

    const { credential } = (await invoke(String(outputs.RegisterBrokerFunctionName), { brokerId: 'E' })) as { credential: string };
    const heartbeat = await invoke(String(outputs.HeartbeatFunctionName), { brokerId: 'E', credential });
    expect(heartbeat).toMatchObject({ brokerId: 'E', rejoined: true });
  });

  it('a second cdk deploy after a handler change answers with the new code on the next invoke, and applies the template diff', async () => {
    // Created with cdklocal, updated with plain cdk: both reach the same CloudFormation.
    const created = await run(bin('cdklocal'), ['deploy', FIXTURE, ...fixtureArgs(1, writeHandler('hello from v1')), '--require-approval', 'never'], cdklocalEnv);
    console.log(`cdk deploy ${FIXTURE} (create): CDK CLI deployment time ${/Deployment time: ([\d.]+)s/.exec(created)?.[1]} s`);
    const lifecycle = (await stackEvents(FIXTURE)).filter((e) => e.LogicalResourceId === FIXTURE).map((e) => e.ResourceStatus);
    expect(lifecycle).toEqual(['CREATE_COMPLETE', 'CREATE_IN_PROGRESS', 'REVIEW_IN_PROGRESS']);
    const v1 = outputsOf(await stack(FIXTURE));
    expect(await invoke(String(v1.FunctionName), { n: 1 })).toEqual({ message: 'hello from v1' });

    const updated = await run(bin('cdk'), ['deploy', FIXTURE, ...fixtureArgs(2, writeHandler('hello from v2')), '--require-approval', 'never']);
    console.log(`cdk deploy ${FIXTURE} (update): CDK CLI deployment time ${/Deployment time: ([\d.]+)s/.exec(updated)?.[1]} s`);
    const after = await stack(FIXTURE);
    expect(after?.StackStatus).toBe('UPDATE_COMPLETE');
    const v2 = outputsOf(after);
    expect(v2.FunctionName).toBe(v1.FunctionName);
    expect(await invoke(String(v2.FunctionName), { n: 2 })).toEqual({ message: 'hello from v2' });

    // Version 2 swaps the queue for a table: the queue is deleted, the table created.
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).not.toContain(v1.QueueUrl);
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    expect(TableNames).toContain(v2.TableName);
  });

  it('aws logs filter-log-events and get-log-events show each invocation in /aws/lambda/<function>', async () => {
    const functionName = String(outputsOf(await stack(FIXTURE)).FunctionName);
    const group = `/aws/lambda/${functionName}`;
    const messages = (await aws('logs', 'filter-log-events', '--log-group-name', group)) as { events: Array<{ message: string }> };
    const lines = messages.events.map((e) => e.message);
    expect(lines.filter((l) => l.startsWith('START RequestId:'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('REPORT RequestId:'))).toHaveLength(2);
    expect(lines.some((l) => l.includes('handling {"n":2}'))).toBe(true);

    const filtered = (await aws('logs', 'filter-log-events', '--log-group-name', group, '--filter-pattern', '"{\\"n\\":1}"')) as {
      events: Array<{ message: string }>;
    };
    expect(filtered.events.map((e) => e.message)).toEqual([expect.stringContaining('handling {"n":1}')]);

    const streams = (await aws('logs', 'describe-log-streams', '--log-group-name', group)) as { logStreams: Array<{ logStreamName: string }> };
    // One stream per deployed code version, as a new execution environment starts one on AWS.
    expect(streams.logStreams).toHaveLength(2);
    const latest = streams.logStreams.map((s) => s.logStreamName).sort().at(-1) ?? '';
    expect(latest).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('cdk destroy removes every function, table, queue, mapping and schedule the stacks created', async () => {
    await run(bin('cdk'), ['destroy', FIXTURE, ...fixtureArgs(2, join(work, 'hello')), '--force']);
    await run(bin('cdk'), ['destroy', STACK, '--app', assemblyDir, '--force']);
    expect(await stack(STACK)).toBeUndefined();
    expect(await stack(FIXTURE)).toBeUndefined();
    expect(await aws('lambda', 'list-functions', '--query', 'Functions[].FunctionName')).toEqual([]);
    const { TableNames = [] } = await dynamodb.send(new ListTablesCommand({}));
    expect(TableNames).toEqual([]);
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    expect(QueueUrls).toEqual([]);
    expect(await aws('lambda', 'list-event-source-mappings', '--query', 'EventSourceMappings[].UUID')).toEqual([]);
    // The bootstrap stack stays, as on AWS.
    expect((await stack('CDKToolkit'))?.StackStatus).toBe('CREATE_COMPLETE');
  });

  describe('templates that cannot deploy', () => {
    async function createAndSettle(name: string, template: unknown): Promise<Stack> {
      await cloudformation.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
      return waitFor(
        async () => {
          const s = await stack(name);
          return s && /(_COMPLETE|_FAILED)$/.test(String(s.StackStatus)) ? s : undefined;
        },
        30_000,
        `stack ${name} to settle`,
        100,
      );
    }

    const queue = (name: string) => ({ Type: 'AWS::SQS::Queue', Properties: { QueueName: name } });

    it.each([
      ['an unknown resource type', { Q: queue('bad-type-q'), X: { Type: 'AWS::Foo::Bar' } }, /Unsupported resource type AWS::Foo::Bar \(logical id X\)/],
      ['a Ref to nothing', { Q: { ...queue('bad-ref-q'), Properties: { QueueName: { Ref: 'Nothing' } } } }, /references Nothing, which is neither a resource/],
      [
        'a cyclic dependency',
        { A: { ...queue('cycle-a'), DependsOn: 'B' }, B: { ...queue('cycle-b'), DependsOn: 'A' } },
        /Circular dependency between resources of stack \S+: A, B/,
      ],
      [
        'a resource that fails after others were created',
        {
          Q: queue('half-created-q'),
          F: {
            Type: 'AWS::Lambda::Function',
            DependsOn: 'Q',
            Properties: { Handler: 'index.handler', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::123456789012:role/r', Code: { S3Bucket: 'no-such-bucket', S3Key: 'missing.zip' } },
          },
        },
        /The following resource\(s\) failed to create: \[F\]\. .*Code\.S3Key missing\.zip/,
      ],
    ])('%s: the stack rolls back with a clear reason and leaves nothing', async (_what, resources, reason) => {
      const name = `Bad${Math.random().toString(36).slice(2, 8)}`;
      const settled = await createAndSettle(name, { Resources: resources });
      expect(settled.StackStatus).toBe('ROLLBACK_COMPLETE');
      expect(settled.StackStatusReason).toMatch(reason);
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
      expect(QueueUrls).toEqual([]);
      await cloudformation.send(new DeleteStackCommand({ StackName: name }));
      await waitFor(async () => (await stack(name)) === undefined, 10_000, `stack ${name} deleted`, 100);
    });

    it('an update whose new resource fails rolls back to the previous template: the added queue goes, the old one stays', async () => {
      const name = 'BadUpdate';
      const created = await createAndSettle(name, { Resources: { Old: queue('update-old-q') } });
      expect(created.StackStatus).toBe('CREATE_COMPLETE');
      const failing = {
        Resources: {
          Old: queue('update-old-q'),
          Added: queue('update-added-q'),
          F: {
            Type: 'AWS::Lambda::Function',
            DependsOn: 'Added',
            Properties: { Handler: 'index.handler', Runtime: 'nodejs20.x', Role: 'arn:aws:iam::123456789012:role/r', Code: { S3Bucket: 'no-such-bucket', S3Key: 'missing.zip' } },
          },
        },
      };
      await cloudformation.send(new UpdateStackCommand({ StackName: name, TemplateBody: JSON.stringify(failing) }));
      const settled = await waitFor(
        async () => {
          const s = await stack(name);
          return s && /^UPDATE_ROLLBACK_(COMPLETE|FAILED)$/.test(String(s.StackStatus)) ? s : undefined;
        },
        30_000,
        `stack ${name} to roll back`,
        100,
      );
      expect(settled.StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
      const queues = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
      expect(queues.map((url) => url.split('/').pop())).toEqual(['update-old-q']);
      await cloudformation.send(new DeleteStackCommand({ StackName: name }));
      await waitFor(async () => (await stack(name)) === undefined, 10_000, `stack ${name} deleted`, 100);
    });
  });
});
