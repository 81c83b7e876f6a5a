/**
 * One embedded cloud with the stack deployed, for a benchmark: synthesizes the stack with
 * the given settings, starts the local cloud on a free port, and hands out clients.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { startLocalCloud, type LocalCloud } from '../../../localcloud/index.js';
import { LeadershipClient, type LeadershipClientOptions } from '../../../client/lambda-client.js';
import { asLeadershipOutputs, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { repoRoot, synthesize } from '../../../tools/synth.js';
import { useDummyCredentialsIfUnset } from '../../../tools/local-env.js';

export const RESULTS_DIR = join(repoRoot, 'bench-results');

export interface BenchCloud {
  cloud: LocalCloud;
  outputs: LeadershipStackOutputs;
  /** A new client (its own connection pool): give each concurrent producer or consumer its own. */
  newClient(options?: Pick<LeadershipClientOptions, 'onInvoke'>): LeadershipClient;
  /** Every Lambda log line seen so far is also passed here (set by the benchmark). */
  onLog?: (atMs: number, line: string) => void;
  stop(): Promise<void>;
}

export interface BenchCloudOptions {
  /** Names the stack and the assembly directory. */
  name: string;
  sessionTimeoutMs: number;
  ttlPeriodMs?: number;
  /** Writes every Lambda log line to bench-results/<name>-lambda.log. */
  keepLambdaLog?: boolean;
  /** Meter what AWS would bill (`cloud.usage`); it costs the edge some time per DynamoDB call. */
  meterUsage?: boolean;
}

export async function startBenchCloud(options: BenchCloudOptions): Promise<BenchCloud> {
  useDummyCredentialsIfUnset();
  const stackName = `PartitionLeadershipBench${options.name.replace(/[^A-Za-z0-9]/g, '')}`;
  const assemblyDir = join(repoRoot, '.localcloud', `cdk.out.bench-${options.name}`);
  await synthesize({ outdir: assemblyDir, context: { stackName, sessionTimeoutMs: options.sessionTimeoutMs } });
  mkdirSync(RESULTS_DIR, { recursive: true });
  let lambdaLog: WriteStream | undefined;
  if (options.keepLambdaLog) lambdaLog = createWriteStream(join(RESULTS_DIR, `${options.name}-lambda.log`));
  const clients: LeadershipClient[] = [];
  // eslint-disable-next-line prefer-const
  let bench: BenchCloud;
  const cloud = await startLocalCloud({
    port: 0,
    assemblyDir,
    ttlPeriodMs: options.ttlPeriodMs ?? 1000,
    meterUsage: options.meterUsage,
    logSink: (line) => {
      const at = Date.now();
      lambdaLog?.write(`${at} ${line}\n`);
      bench?.onLog?.(at, line);
    },
  });
  const outputs = asLeadershipOutputs(stackName, cloud.stacks.find((stack) => stack.stackName === stackName)?.outputs);
  bench = {
    cloud,
    outputs,
    newClient(clientOptions = {}) {
      const client = new LeadershipClient(outputs, { ...clientOptions, endpoint: cloud.endpoint });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      await cloud.stop();
      lambdaLog?.end();
    },
  };
  return bench;
}
