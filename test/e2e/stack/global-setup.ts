import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalCloud } from '../../../localcloud/index.js';
import { synthesize, repoRoot } from '../../../tools/synth.js';
import { asLeadershipOutputs, readOutputsFile, type LeadershipStackOutputs } from '../../../client/stack-outputs.js';
import { useDummyCredentialsIfUnset } from '../../../tools/local-env.js';
import { deployWithCdkLocal } from '../../../tools/cdklocal.js';

/**
 * Session timeout the e2e stack is synthesized with: short, so failovers take seconds, yet
 * long enough that a stall of the emulator on a busy 2-core CI machine does not make a
 * healthy broker's lease lapse.
 */
export const E2E_SESSION_TIMEOUT_MS = 6000;

/**
 * How old a diskless object must be before the sweep judges it, in the e2e stack: seconds,
 * so a test can watch an orphan go (15 minutes on AWS; any produce call here ends sooner).
 */
export const E2E_DISKLESS_ORPHAN_AGE_MS = 10_000;
/** The context the stack is synthesized with (besides its name); the browser tests use it too, so `npm test` synthesizes it once (tools/synth.ts). */
export const E2E_STACK_CONTEXT = {
  sessionTimeoutMs: E2E_SESSION_TIMEOUT_MS,
  produceAckTimeoutMs: 15000,
  disklessOrphanAgeMs: E2E_DISKLESS_ORPHAN_AGE_MS,
};
const stackName = process.env.STACK_NAME ?? 'PartitionLeadership';

export interface StackTarget {
  kind: 'embedded' | 'external';
  description: string;
  endpoint: string;
  region: string;
  outputs: LeadershipStackOutputs;
  sessionTimeoutMs: number;
  /** The synthesized assembly, for tests that start their own embedded cloud. */
  assemblyDir?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stackTarget: StackTarget;
  }
}

/**
 * Picks the target of the stack tests and says plainly which one ran:
 * - E2E_TARGET=localstack-container (needs a Docker engine, which the project machines
 *   lack, and `npm i -D @testcontainers/localstack@12.1.0`): starts LocalStack, deploys
 *   with cdklocal, tests against it;
 * - AWS_ENDPOINT_URL set: a stack already deployed there (LocalStack via
 *   `npm run deploy:localstack`, or AWS), outputs read from STACK_OUTPUTS_FILE;
 * - otherwise the embedded cloud, started here on a random port with the TTL reaper
 *   OFF, so every failover in these tests is detected without TTL deletion.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  useDummyCredentialsIfUnset();
  const region = process.env.AWS_REGION ?? 'us-east-1';
  if (process.env.E2E_TARGET === 'localstack-container') {
    const { target, stop } = await startLocalStackContainer(region);
    announce(target);
    project.provide('stackTarget', target);
    return stop;
  }
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    const outputsFile = process.env.STACK_OUTPUTS_FILE ?? join(repoRoot, 'cdk-outputs.json');
    const target: StackTarget = {
      kind: 'external',
      description: `external endpoint ${external} (stack ${stackName}, outputs from ${outputsFile})`,
      endpoint: external,
      region,
      outputs: readOutputsFile(outputsFile, stackName),
      sessionTimeoutMs: Number(process.env.SESSION_TIMEOUT_MS ?? 9000),
    };
    announce(target);
    project.provide('stackTarget', target);
    return async () => {};
  }

  const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.e2e');
  mkdirSync(assemblyDir, { recursive: true });
  await synthesize({ outdir: assemblyDir, context: { stackName, ...E2E_STACK_CONTEXT } });
  const cloud = await startLocalCloud({ port: 0, assemblyDir, ttlPeriodMs: 0, region });
  const stack = cloud.stacks.find((deployed) => deployed.stackName === stackName);
  const target: StackTarget = {
    kind: 'embedded',
    description: `embedded local cloud at ${cloud.endpoint} (DynamoDB Local ${cloud.dynamodbEndpoint}, moto ${cloud.motoEndpoint}, TTL reaper off)`,
    endpoint: cloud.endpoint,
    region,
    outputs: asLeadershipOutputs(stackName, stack?.outputs),
    sessionTimeoutMs: E2E_SESSION_TIMEOUT_MS,
    assemblyDir,
  };
  announce(target);
  project.provide('stackTarget', target);
  return () => cloud.stop();
}

/** The package is optional (no Docker here), hence the import by a name TypeScript does not resolve. */
async function startLocalStackContainer(region: string): Promise<{ target: StackTarget; stop: () => Promise<void> }> {
  const packageName = '@testcontainers/localstack';
  type Container = { getConnectionUri(): string; stop(): Promise<unknown> };
  let module: { LocalstackContainer: new (image: string) => { start(): Promise<Container> } };
  try {
    module = (await import(packageName)) as typeof module;
  } catch {
    throw new Error(`E2E_TARGET=localstack-container needs ${packageName} (npm i -D ${packageName}@12.1.0) and a Docker engine`);
  }
  const container = await new module.LocalstackContainer('localstack/localstack:4').start();
  const endpoint = container.getConnectionUri();
  const outputsFile = join(repoRoot, '.localcloud', 'localstack-outputs.json');
  deployWithCdkLocal({ endpoint, outputsFile, extraArgs: ['-c', `stackName=${stackName}`, '-c', `sessionTimeoutMs=${E2E_SESSION_TIMEOUT_MS}`] });
  process.env.AWS_ENDPOINT_URL = endpoint;
  const target: StackTarget = {
    kind: 'external',
    description: `LocalStack container at ${endpoint} (started by @testcontainers/localstack, deployed with cdklocal)`,
    endpoint,
    region,
    outputs: readOutputsFile(outputsFile, stackName),
    sessionTimeoutMs: E2E_SESSION_TIMEOUT_MS,
  };
  return { target, stop: async () => void (await container.stop()) };
}

function announce(target: StackTarget): void {
  console.log(`\n[e2e-stack] target: ${target.description}\n`);
}
