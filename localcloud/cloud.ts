/**
 * The embedded local cloud, assembled: the data plane (DynamoDB Local for DynamoDB and
 * its streams, moto for SQS, S3 and the rest) behind the edge (:4566), the worker-thread
 * Lambda runtime, and the emulators both lack (event source mappings, TTL deletion,
 * schedules). Deploys any CDK app's cdk.out; stop() leaves nothing running.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ChaosFaults, type ChaosOptions } from './chaos.js';
import { cloudFormationApi } from './cloudformation/api.js';
import { CloudFormationService } from './cloudformation/service.js';
import { CodeCache } from './cloudformation/deploy/code-cache.js';
import type { DeployedStack } from './cloudformation/deploy/target.js';
import { EventSourceMappings } from './esm/event-source-mappings.js';
import type { CallerStats } from './edge/fair-share.js';
import { lambdaApi } from './lambda/api.js';
import type { LogSink } from './lambda/invocation-logs.js';
import { logsApi } from './logs/api.js';
import { LogStore } from './logs/store.js';
import { startDataPlane } from './data-plane/data-plane.js';
import { localClientConfig } from './shared/aws-clients.js';
import { callerEndpoint } from './shared/caller.js';
import { WorkerLambdaRuntime } from './lambda/runtime.js';
import { Scheduler } from './schedule/scheduler.js';
import { TtlReaper } from './data-plane/ttl-reaper.js';
import { UsageMeter } from './billing/usage-meter.js';

export interface LocalCloudOptions {
  /** Port of the edge on 127.0.0.1. Default 4566; 0 picks a free one. */
  port?: number;
  /** A synthesized cloud assembly (cdk.out) to deploy at start. */
  assemblyDir?: string;
  /** Period of the TTL reaper's sweeps; 0 turns the reaper off. Default 1000. */
  ttlPeriodMs?: number;
  /** Poll period of the stream and queue event source mappings. */
  pollIntervalMs?: number;
  /** Receives every function log line, prefixed with the function name. */
  logSink?: LogSink;
  region?: string;
  /** moto's default account, so ARNs made here match the ones moto returns. */
  accountId?: string;
  /** After each deploy, the stacks' outputs as `cdk deploy --outputs-file` writes them. */
  outputsFile?: string;
  /**
   * The fault mode (chaos.ts), off by default: with it, `cloud.chaos.enable()` makes the edge,
   * the Lambda runtime and the stream pollers inject AWS's faults, drawn from its seed.
   */
  chaos?: ChaosOptions;
  /**
   * Meter what AWS would bill (usage-meter.ts), off by default: the edge then asks DynamoDB
   * Local for every call's ConsumedCapacity and reads every answer. `cloud.usage` reports it.
   */
  meterUsage?: boolean;
}

type Stopper = () => Promise<void> | void;

/** What startLocalCloud() wires together and hands to the LocalCloud it returns. */
interface LocalCloudParts {
  endpoint: string;
  /** Per caller: DynamoDB requests served through the edge, with their queueing and service time. */
  dynamodbStats: () => Record<string, CallerStats>;
  motoEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
  accountId: string;
  runtime: WorkerLambdaRuntime;
  esm: EventSourceMappings;
  cloudFormation: CloudFormationService;
  logs: LogStore;
  codeCache: CodeCache;
  deployTo: (assemblyDir: string) => Promise<DeployedStack[]>;
  outputsFile?: string;
  /** In start order; run in reverse by stop(). */
  stoppers: Stopper[];
  chaos?: ChaosFaults;
  usage?: UsageMeter;
}

export class LocalCloud {
  /** The edge: the one endpoint clients and functions use. */
  readonly endpoint: string;
  /** moto's private endpoint (SQS, S3...). */
  readonly motoEndpoint: string;
  /** DynamoDB Local's private endpoint (DynamoDB, DynamoDB Streams). */
  readonly dynamodbEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly runtime: WorkerLambdaRuntime;
  readonly esm: EventSourceMappings;
  /** The CloudFormation API's stacks (what `cdk deploy` against the edge creates). */
  readonly cloudFormation: CloudFormationService;
  /** CloudWatch Logs: the functions' log groups. */
  readonly logs: LogStore;
  /** The private directory (mode 0700) where function code from S3, zips and inline code is staged; stop() removes it. */
  readonly codeCacheDir: string;
  /** The fault mode, when the cloud was started with `chaos` (injecting only once enabled). */
  readonly chaos?: ChaosFaults;
  /** What AWS would bill for the traffic so far, when the cloud was started with `meterUsage`. */
  readonly usage?: UsageMeter;
  private deployed: DeployedStack[] = [];
  private stopping?: Promise<void>;

  /** Use startLocalCloud(). */
  constructor(private readonly parts: LocalCloudParts) {
    this.endpoint = parts.endpoint;
    this.motoEndpoint = parts.motoEndpoint;
    this.dynamodbEndpoint = parts.dynamodbEndpoint;
    this.region = parts.region;
    this.accountId = parts.accountId;
    this.runtime = parts.runtime;
    this.esm = parts.esm;
    this.cloudFormation = parts.cloudFormation;
    this.logs = parts.logs;
    this.codeCacheDir = parts.codeCache.dir;
    this.chaos = parts.chaos;
    this.usage = parts.usage;
  }

  /**
   * Per caller (`lambda:<function>`, `event-source-mappings`, `ttl-reaper`, `clients`): the
   * DynamoDB requests served so far, the time they queued for DynamoDB Local (one request at
   * a time, shared fairly) and the time it took to answer them. Benchmarks subtract two
   * snapshots to see where a window's time went.
   */
  dynamodbStats(): Record<string, CallerStats> {
    return this.parts.dynamodbStats();
  }

  /** The stacks of the latest deploy. */
  get stacks(): DeployedStack[] {
    return this.deployed;
  }

  /** Deploys (or redeploys: changed code runs from the next invocation on) an assembly. */
  async deploy(assemblyDir: string): Promise<DeployedStack[]> {
    this.deployed = await this.parts.deployTo(assemblyDir);
    if (this.parts.outputsFile) await writeOutputsFile(this.parts.outputsFile, this.deployed);
    return this.deployed;
  }

  /** Stops pollers, sandboxes, the edge, DynamoDB Local and moto, in that order, then removes the code cache. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= stopAll(this.parts.stoppers);
    return this.stopping;
  }
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const stoppers: Stopper[] = [];
  // Validated before anything starts: a bad rate is the caller's mistake, not a start failure.
  const chaos = options.chaos ? new ChaosFaults(options.chaos) : undefined;
  try {
    // Removed last, once no deployment writes into it and no sandbox runs from it.
    const codeCache = CodeCache.create();
    stoppers.push(() => codeCache.dispose());
    const dataPlane = await startDataPlane({ port: options.port ?? 4566 });
    stoppers.push(() => dataPlane.stop());
    const { edge } = dataPlane;
    if (chaos) edge.injectFaults(chaos);
    const usage = options.meterUsage ? new UsageMeter() : undefined;
    if (usage) edge.meterUsage(usage);
    const logs = new LogStore();
    edge.use(logsApi(logs));
    const runtime = new WorkerLambdaRuntime({ region, awsEndpoint: edge.url, logSink: options.logSink, logWriter: logs, chaos, usage });
    stoppers.push(() => runtime.close());
    // The pollers and the reaper go through the edge like every client: it sends their
    // stream and table calls to DynamoDB Local and their queue calls to moto.
    // Each names itself, so that it gets its own share of DynamoDB Local.
    const esm = new EventSourceMappings(runtime, {
      awsEndpoint: callerEndpoint(edge.url, 'event-source-mappings'),
      region,
      pollIntervalMs: options.pollIntervalMs,
      chaos,
    });
    stoppers.push(() => esm.stop());
    const ttl = new TtlReaper({ awsEndpoint: callerEndpoint(edge.url, 'ttl-reaper'), region, periodMs: options.ttlPeriodMs });
    stoppers.push(() => ttl.stop());
    const scheduler = new Scheduler(runtime, { region, accountId });
    stoppers.push(() => scheduler.stop());
    edge.use(lambdaApi({ runtime, eventSourceMappings: esm, region, accountId }));

    // Resources are created through the edge, so the URLs moto derives from the request's
    // Host (queue URLs) name the public endpoint, not moto's private port.
    const target = { runtime, awsEndpoint: edge.url, region, accountId, esm, scheduler, ttl, logs };
    const config = localClientConfig(target);
    const clients = { dynamodb: new DynamoDBClient(config), sqs: new SQSClient(config) };
    const cloudFormation = new CloudFormationService({ target, clients, codeCache });
    stoppers.push(async () => {
      // A deployment in flight finishes (or fails) before its clients go.
      await cloudFormation.idle();
      clients.dynamodb.destroy();
      clients.sqs.destroy();
    });
    edge.use(cloudFormationApi(cloudFormation));
    const cloud = new LocalCloud({
      endpoint: edge.url,
      dynamodbStats: () => edge.dynamodbStats(),
      motoEndpoint: dataPlane.motoEndpoint,
      dynamodbEndpoint: dataPlane.dynamodbEndpoint,
      region,
      accountId,
      runtime,
      esm,
      cloudFormation,
      logs,
      codeCache,
      deployTo: (assemblyDir) => cloudFormation.deployAssembly(assemblyDir),
      outputsFile: options.outputsFile,
      stoppers,
      chaos,
      usage,
    });
    if (options.assemblyDir) await cloud.deploy(options.assemblyDir);
    esm.start();
    ttl.start(); // a no-op when the period is 0
    scheduler.start();
    return cloud;
  } catch (error) {
    // The start failure is the error worth reporting; a cleanup failure would only mask it.
    await stopAll(stoppers).catch(() => undefined);
    throw error;
  }
}

/** Last started, first stopped; one failure does not keep the rest running. */
async function stopAll(stoppers: Stopper[]): Promise<void> {
  const failures: unknown[] = [];
  for (const stop of [...stoppers].reverse()) {
    try {
      await stop();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'the local cloud did not stop cleanly');
}

async function writeOutputsFile(file: string, stacks: DeployedStack[]): Promise<void> {
  const outputs = Object.fromEntries(stacks.map((stack) => [stack.stackName, stack.outputs]));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(outputs, null, 2)}\n`);
}
