import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { parseCli, USAGE, UsageError } from '../../../client/cli/args.js';
import { runCli } from '../../../client/cli/run.js';
import { LeadershipClient } from '../../../client/lambda-client.js';
import { FakeLambda, fakeOutputs } from './fake-lambda.js';

describe('CLI argument parser', () => {
  it('parses every verb with its flags, and the connection flags with their defaults', () => {
    expect(parseCli(['topics', 'create', '--topic', 'orders', '--partitions', '4', '--replication-factor', '2'])).toEqual({
      command: { verb: 'topics create', topic: 'orders', partitions: 4, replicationFactor: 2, minInsyncReplicas: undefined, uncleanLeaderElection: false },
      connection: { endpoint: 'http://localhost:4566', outputsFile: 'cdk-outputs.json', stack: 'PartitionLeadership', region: 'us-east-1', timeoutMs: 30_000 },
    });
    expect(parseCli(['topics', 'create', '--topic', 'o', '--partitions', '1', '--replication-factor', '1', '--config', 'compression.type=gzip']).command).toMatchObject({
      compressionType: 'gzip',
    });
    expect(
      parseCli(['topics', 'create', '--topic', 'o', '--partitions', '1', '--replication-factor', '1', '--config', 'storage=diskless', '--config', 'compression.type=gzip']).command,
    ).toMatchObject({ storage: 'diskless', compressionType: 'gzip' });
    expect(parseCli(['topics', 'create', '--topic', 'o', '--partitions', '1', '--replication-factor', '1', '--config', 'storage=replicated']).command).toMatchObject({ storage: 'replicated' });
    expect(parseCli(['topics', 'describe']).command).toEqual({ verb: 'topics describe', topic: undefined });
    expect(parseCli(['topics', 'list']).command).toEqual({ verb: 'topics list' });
    expect(parseCli(['brokers', 'list']).command).toEqual({ verb: 'brokers list' });
    expect(parseCli(['brokers', 'register', '--broker', 'A']).command).toEqual({ verb: 'brokers register', broker: 'A', credential: undefined });
    expect(parseCli(['brokers', 'register', '--broker', 'A', '--credential', 'c1']).command).toEqual({ verb: 'brokers register', broker: 'A', credential: 'c1' });
    expect(parseCli(['brokers', 'run', '--broker', 'A', '--broker', 'B']).command).toEqual({ verb: 'brokers run', brokers: ['A', 'B'], credentials: undefined, heartbeatIntervalMs: 2000 });
    expect(parseCli(['brokers', 'run', '--broker', 'A', '--credential', 'c1', '--broker', 'B', '--credential', 'c2']).command).toEqual({
      verb: 'brokers run',
      brokers: ['A', 'B'],
      credentials: ['c1', 'c2'],
      heartbeatIntervalMs: 2000,
    });
    expect(parseCli(['brokers', 'shutdown', '--broker', 'A', '--incarnation', '7', '--credential', 'c1']).command).toEqual({
      verb: 'brokers shutdown',
      broker: 'A',
      incarnation: 7,
      credential: 'c1',
    });
    expect(parseCli(['elect-leaders']).command).toEqual({ verb: 'elect-leaders', topic: undefined, partitions: undefined });
    expect(parseCli(['elect-leaders', '--topic', 't', '--partition', '1', '--partition', '3']).command).toEqual({
      verb: 'elect-leaders',
      topic: 't',
      partitions: [1, 3],
    });
    expect(parseCli(['produce', '--topic', 't', '--partition', '2', '--key-separator', ':', '--acks', '1']).command).toEqual({
      verb: 'produce',
      topic: 't',
      partition: 2,
      keySeparator: ':',
      acks: 1,
      batchSize: 100,
    });
    expect(parseCli(['consume', '--topic', 't', '--partition', '3', '--offset', '5', '--follow']).command).toEqual({
      verb: 'consume',
      topic: 't',
      partition: 3,
      offset: 5,
      follow: true,
      maxRecords: undefined,
      pollIntervalMs: 500,
    });
    const connection = parseCli(['topics', 'list', '--endpoint', 'http://x:1', '--outputs', 'o.json', '--stack', 'S', '--timeout-ms', '100']).connection;
    expect(connection).toMatchObject({ endpoint: 'http://x:1', outputsFile: 'o.json', stack: 'S', timeoutMs: 100 });
  });

  it('takes the endpoint, stack and region from the environment when no flag names them', () => {
    const { connection } = parseCli(['topics', 'list'], { AWS_ENDPOINT_URL: 'http://env:4566', STACK_NAME: 'Other', AWS_REGION: 'eu-west-1' });
    expect(connection).toMatchObject({ endpoint: 'http://env:4566', stack: 'Other', region: 'eu-west-1' });
    expect(parseCli(['topics', 'list', '--endpoint', 'http://flag:1'], { AWS_ENDPOINT_URL: 'http://env:4566' }).connection.endpoint).toBe('http://flag:1');
  });

  it('parses plan: the planner reads its flags, --json and --bench-results', () => {
    const { command } = parseCli(['plan', '--records-per-second', '2000', '--record-bytes', '512', '--rf', '3', '--min-insync', '2', '--retention', '36h', '--json', '--bench-results', '/tmp/r']);
    expect(command).toEqual({
      verb: 'plan',
      request: { recordsPerSecond: 2000, recordBytes: 512, replicationFactor: 3, minInsyncReplicas: 2, retention: '36h', retentionSeconds: 36 * 3600, storage: 'replicated', recordsPerCall: undefined, brokers: undefined },
      json: true,
      benchResults: '/tmp/r',
    });
  });

  it('answers --help with the usage text, whatever the verb', () => {
    expect(parseCli(['--help']).command).toEqual({ verb: 'help', text: USAGE });
    expect(parseCli(['produce', '-h']).command.verb).toBe('help');
  });

  it.each([
    [[], /a verb is required/],
    [['frobnicate'], /unknown verb "frobnicate"/],
    [['topics'], /"topics" needs a sub-command: topics create, topics describe, topics list/],
    [['brokers'], /"brokers" needs a sub-command: brokers list, brokers register, brokers run, brokers shutdown/],
    [['brokers', 'shutdown', '--broker', 'A', '--credential', 'c'], /--incarnation is required/],
    [['brokers', 'shutdown', '--broker', 'A', '--incarnation', '1'], /--credential is required/],
    [['brokers', 'shutdown', '--broker', 'A', '--incarnation', '1', '--credential', 'c', '--credential', 'd'], /--credential may be given once/],
    [['brokers', 'shutdown', '--incarnation', '1', '--credential', 'c'], /--broker ID is required, once/],
    [['brokers', 'shutdown', '--broker', 'A', '--broker', 'B', '--incarnation', '1', '--credential', 'c'], /--broker ID is required, once/],
    [['brokers', 'shutdown', '--broker', 'A', '--incarnation', '0', '--credential', 'c'], /--incarnation must be an integer >= 1, got "0"/],
    [['brokers', 'shutdown', '--broker', 'A', '--incarnation=-5', '--credential', 'c'], /--incarnation must be an integer >= 1, got "-5"/],
    [['brokers', 'register'], /--broker ID is required, once/],
    [['brokers', 'register', '--broker', 'A', '--broker', 'B'], /--broker ID is required, once/],
    [['brokers', 'run', '--broker', 'A', '--broker', 'B', '--credential', 'c'], /--credential must be given once per --broker, in the same order \(2 brokers, 1 credentials\)/],
    [['elect-leaders', '--partition', '1'], /--partition needs --topic/],
    [['elect-leaders', '--topic', 't', '--partition', 'x'], /--partition must be an integer >= 1/],
    [['produce', '--topic', 't', '--partition', '1', '--partition', '2'], /--partition may be given once/],
    [['topics', 'delete'], /unknown verb "topics delete"/],
    [['topics', 'create', '--topic', 't', '--partitions', '1', '--replication-factor', '1', '--config', 'compression.type'], /--config takes key=value, got "compression.type"/],
    [['topics', 'create', '--topic', 't', '--partitions', '1', '--replication-factor', '1', '--config', 'retention.ms=5'], /unknown topic config "retention.ms" \(supported: compression.type, storage\)/],
    [['topics', 'create', '--topic', 't', '--partitions', '1', '--replication-factor', '1', '--config', 'storage=s3'], /--config storage must be one of replicated, diskless, got "s3"/],
    [['topics', 'create', '--topic', 't', '--partitions', '1', '--replication-factor', '1', '--config', 'storage=diskless', '--config', 'storage=replicated'], /--config storage may be given once/],
    [['topics', 'create', '--topic', 't', '--partitions', '1', '--replication-factor', '1', '--config', 'compression.type=zstd'], /compression.type must be one of producer, uncompressed, gzip, got "zstd"/],
    [['topics', 'list', 'extra'], /unexpected argument "extra"/],
    [['topics', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['topics', 'list', '--topic', 't'], /topics list takes no --topic/],
    [['produce', '--partition', '1'], /--topic is required/],
    [['produce', '--topic', 't'], /--partition is required/],
    [['produce', '--topic', 't', '--partition', 'one'], /--partition must be an integer >= 1, got "one"/],
    [['produce', '--topic', 't', '--partition', '1.5'], /--partition must be an integer/],
    [['produce', '--topic', 't', '--partition', '0'], /--partition must be an integer >= 1/],
    [['produce', '--topic', 't', '--partition', '1', '--acks', '2'], /--acks must be all, -1, 1 or 0/],
    [['produce', '--topic', 't', '--partition', '1', '--key-separator', ''], /--key-separator must not be empty/],
    [['produce', '--topic', 't', '--partition', '1', '--follow'], /produce takes no --follow/],
    [['consume', '--topic', 't', '--partition', '1', '--offset=-1'], /--offset must be an integer >= 0/],
    [['consume', '--topic', 't', '--offset', '-1'], /--offset' argument is ambiguous/],
    [['consume', '--topic', 't', '--offset', '3'], /--offset needs --partition/],
    [['consume', '--topic', 't', '--max-records', '5000'], /--max-records must be an integer from 1 to 1000/],
    [['topics', 'create', '--topic', 't', '--partitions', '2'], /--replication-factor is required/],
    [['topics', 'list', '--timeout-ms', 'soon'], /--timeout-ms must be an integer/],
    [['consume', '--topic'], /argument missing/],
    [['brokers', 'run'], /--broker ID is required/],
    [['brokers', 'run', '--broker', 'A', '--heartbeat-interval-ms', '0'], /--heartbeat-interval-ms must be an integer >= 1/],
    [['plan', '--record-bytes', '1024', '--rf', '3', '--retention', '7d'], /--records-per-second is required/],
    [['plan', '--records-per-second', '-5', '--record-bytes', '1024', '--rf', '3', '--retention', '7d'], /use '--records-per-second=-XYZ'/],
    [['plan', '--records-per-second=-5', '--record-bytes', '1024', '--rf', '3', '--retention', '7d'], /--records-per-second must be a number > 0, got "-5"/],
    [['plan', '--records-per-second', '5', '--record-bytes', '1024', '--rf', '0', '--retention', '7d'], /--rf must be an integer from 1 to 100, got "0"/],
    [['plan', '--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--min-insync', '3', '--retention', '7d'], /--min-insync must not exceed --rf \(2\)/],
    [['plan', '--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--retention', '7y'], /--retention has an unknown unit "y"/],
    [['plan', '--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--retention', '7d', '--storage', 'tape'], /--storage must be replicated or diskless, got "tape"/],
    [['plan', '--records-per-second', '5', '--record-bytes', '1024', '--rf', '2', '--retention', '7d', '--topic', 't'], /plan takes no --topic/],
    [['topics', 'list', '--rf', '3'], /topics list takes no --rf/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

describe('CLI commands (fake Lambda)', () => {
  async function cli(argv: string[], stdin = '', lambda = new FakeLambda('orders', 2), signal?: AbortSignal) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      stdin: Readable.from([stdin]),
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
      signal,
      connect: () => new LeadershipClient(fakeOutputs, { transport: lambda.transport }),
    });
    return { code, out, err, lambda };
  }

  it('produces stdin lines, one record each, split at the key separator, and consumes them back', async () => {
    const produced = await cli(['produce', '--topic', 'orders', '--partition', '2', '--key-separator', ':', '--batch-size', '2'], 'k1:v1\nk2:v:2\n:empty key\n');
    expect(produced.code).toBe(0);
    expect(produced.out).toEqual([
      'Produced 2 record(s) to orders-2 at offsets 0-1 (leader A, epoch 0).',
      'Produced 1 record(s) to orders-2 at offsets 2-2 (leader A, epoch 0).',
    ]);
    const consumed = await cli(['consume', '--topic', 'orders', '--partition', '2', '--offset', '1'], '', produced.lambda);
    expect(consumed).toMatchObject({ code: 0, out: ['1\tk2\tv:2', '2\t\tempty key'] });
  });

  it('produces whole lines as values without a key separator; consume prints a missing key as null and labels partitions when reading all', async () => {
    const lambda = new FakeLambda('orders', 2);
    await cli(['produce', '--topic', 'orders', '--partition', '1'], 'a:b\nc\n', lambda);
    const consumed = await cli(['consume', '--topic', 'orders'], '', lambda);
    expect(consumed.out).toEqual(['1\t0\tnull\ta:b', '1\t1\tnull\tc']);
  });

  it('refuses a line without the key separator (exit 2), after sending the complete batches before it', async () => {
    const result = await cli(['produce', '--topic', 'orders', '--partition', '1', '--key-separator', '=', '--batch-size', '1'], 'a=1\nno separator\n');
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['cli: line 2 has no key separator "=": "no separator"']);
    expect(result.lambda.partitions.get(1)!.records.map((record) => record.value)).toEqual(['1']);
  });

  it('prints topics, partitions and brokers', async () => {
    const described = await cli(['topics', 'describe', '--topic', 'orders']);
    expect(described.out[0]).toBe('Topic: orders\tPartitionCount: 2\tReplicationFactor: 2\tConfigs: min.insync.replicas=1,unclean.leader.election.enable=false,compression.type=producer,storage=replicated');
    expect(described.out[1]).toMatch(/Partition: 1\tLeader: A\tReplicas: A,B\tIsr: A\tLeaderEpoch: 0\tHighWatermark: 0\tONLINE/);
    expect((await cli(['topics', 'list'])).out).toEqual(['orders\tpartitions 2\treplication factor 2']);
    expect((await cli(['brokers', 'list'])).out[0]).toMatch(/^A\tincarnation 1\talive/);
    const created = await cli(['topics', 'create', '--topic', 'orders', '--partitions', '2', '--replication-factor', '2']);
    expect(created.out[0]).toBe('Created topic "orders": 2 partition(s), replication factor 2, min.insync.replicas 1, compression.type producer, storage replicated.');
    const diskless = await cli(['topics', 'create', '--topic', 'orders', '--partitions', '2', '--replication-factor', '2', '--config', 'storage=diskless']);
    expect(diskless.out[0]).toMatch(/, storage diskless\.$/);
    expect(diskless.lambda.callsTo(fakeOutputs.CreateTopicFunctionName)[0].payload).toMatchObject({ storage: 'diskless' });
    const disklessTopic = new FakeLambda('orders', 1, 'A', 'diskless');
    expect((await cli(['topics', 'describe'], '', disklessTopic)).out[0]).toMatch(/\tConfigs: .*,storage=diskless$/);
  });

  it('exits 1 naming the function error; 2 with usage advice on bad arguments; 0 with usage on --help', async () => {
    const unknown = await cli(['consume', '--topic', 'ghosts', '--partition', '1']);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^cli: describe-fn: UnknownTopicError: /);
    const bad = await cli(['produce', '--topic', 'orders', '--partition', 'x']);
    expect(bad).toMatchObject({ code: 2, err: ['cli: --partition must be an integer >= 1, got "x"', 'Run "npm run cli -- --help" for usage.'] });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out[0]).toMatch(/^Usage: npm run cli -- <verb>/);
  });

  it('runs simulated brokers, each registered afresh, until the signal ends them', async () => {
    const controller = new AbortController();
    const lambda = new FakeLambda('orders', 1);
    const running = cli(['brokers', 'run', '--broker', 'A', '--broker', 'B', '--heartbeat-interval-ms', '10'], '', lambda, controller.signal);
    await vi.waitFor(() => expect(lambda.callsTo(fakeOutputs.HeartbeatFunctionName).length).toBeGreaterThanOrEqual(4));
    controller.abort();
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.err).toEqual([]);
    expect([...result.out].sort()).toEqual([
      'Brokers A, B heartbeating every 10 ms; Ctrl-C stops them (their leases then lapse).',
      'Registered broker A; its credential (for brokers shutdown): generated-credential-of-A',
      'Registered broker B; its credential (for brokers shutdown): generated-credential-of-B',
    ]);
    expect(lambda.callsTo(fakeOutputs.RegisterBrokerFunctionName).map((call) => call.payload)).toEqual(
      expect.arrayContaining([{ brokerId: 'A' }, { brokerId: 'B' }]),
    );
    expect(lambda.callsTo(fakeOutputs.HeartbeatFunctionName).every((call) => call.payload.credential === `generated-credential-of-${String(call.payload.brokerId)}`)).toBe(true);
    const calls = lambda.callsTo(fakeOutputs.HeartbeatFunctionName).length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lambda.callsTo(fakeOutputs.HeartbeatFunctionName).length).toBe(calls);
  });

  it('runs brokers with the credentials given, registering none', async () => {
    const controller = new AbortController();
    const lambda = new FakeLambda('orders', 1);
    const running = cli(['brokers', 'run', '--broker', 'A', '--credential', 'cred-a', '--broker', 'B', '--credential', 'cred-b', '--heartbeat-interval-ms', '10'], '', lambda, controller.signal);
    await vi.waitFor(() => expect(lambda.callsTo(fakeOutputs.HeartbeatFunctionName).length).toBeGreaterThanOrEqual(2));
    controller.abort();
    expect((await running).code).toBe(0);
    expect(lambda.callsTo(fakeOutputs.RegisterBrokerFunctionName)).toEqual([]);
    const sent = new Map(lambda.callsTo(fakeOutputs.HeartbeatFunctionName).map((call) => [call.payload.brokerId, call.payload.credential]));
    expect(sent).toEqual(new Map([['A', 'cred-a'], ['B', 'cred-b']]));
  });

  it('registers a broker and prints its credential once, on a line of its own', async () => {
    const result = await cli(['brokers', 'register', '--broker', 'A']);
    expect(result).toMatchObject({ code: 0, err: [] });
    expect(result.out).toEqual(['Registered broker A. Its credential (shown once; the cluster keeps only a salted hash):', 'generated-credential-of-A']);
    expect(result.lambda.callsTo(fakeOutputs.RegisterBrokerFunctionName)).toEqual([{ functionName: fakeOutputs.RegisterBrokerFunctionName, payload: { brokerId: 'A' } }]);
  });

  it('sends the credential with a controlled shutdown', async () => {
    const result = await cli(['brokers', 'shutdown', '--broker', 'A', '--incarnation', '7', '--credential', 'cred-a']);
    expect(result.lambda.callsTo(fakeOutputs.ControlledShutdownFunctionName).map((call) => call.payload)).toEqual([
      { brokerId: 'A', incarnation: 7, credential: 'cred-a' },
    ]);
  });

  it('reports a missing outputs file as a usage problem', async () => {
    const err: string[] = [];
    const code = await runCli(['topics', 'list', '--outputs', '/nonexistent/outputs.json'], { stdin: Readable.from(['']), out: () => undefined, err: (line) => err.push(line), env: {} });
    expect(code).toBe(2);
    expect(err[0]).toMatch(/Cannot read stack outputs from \/nonexistent\/outputs.json/);
  });
});
