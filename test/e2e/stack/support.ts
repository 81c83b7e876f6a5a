import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { expect, inject } from 'vitest';
import { LeadershipClient, RemoteFunctionError, type PartitionView } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';
import { drainLeadershipEvents as drainQueue, type LeadershipEventMessage } from '../../../client/leadership-events.js';
import type { StackTarget } from './global-setup.js';

const run = promisify(execFile);

export function stackTarget(): StackTarget {
  return inject('stackTarget');
}

export function leadershipClient(target: StackTarget): LeadershipClient {
  return new LeadershipClient(target.outputs, { endpoint: target.endpoint, region: target.region });
}

/** A topic name no other test uses, so tests never see each other's partitions. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export function partitionOf(partitions: PartitionView[], partition: number): PartitionView {
  const view = partitions.find((candidate) => candidate.Partition === partition);
  if (!view) throw new Error(`partition ${partition} missing from describe output`);
  return view;
}

/** The error a call to a deployed function was refused with, as the client sees it. */
export async function refusalOf(call: Promise<unknown>): Promise<RemoteFunctionError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'expected the call to be refused').toBeInstanceOf(RemoteFunctionError);
  return error as RemoteFunctionError;
}

/** `aws lambda invoke` with the real AWS CLI, as a user would type it. */
export async function invokeWithAwsCli(target: StackTarget, functionName: string, payload: unknown): Promise<{ statusCode: number; functionError?: string; body: unknown }> {
  const outFile = join(mkdtempSync(join(tmpdir(), 'invoke-')), 'out.json');
  const { stdout } = await run(
    'aws',
    ['--endpoint-url', target.endpoint, '--region', target.region, 'lambda', 'invoke', '--function-name', functionName, '--payload', JSON.stringify(payload), outFile],
    { env: { ...process.env, AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' } },
  );
  const meta = JSON.parse(stdout) as { StatusCode: number; FunctionError?: string };
  return { statusCode: meta.StatusCode, functionError: meta.FunctionError, body: JSON.parse(readFileSync(outFile, 'utf8')) as unknown };
}

/** Receives (and deletes) every leadership event on the FIFO queue, keeping one topic's. */
export async function drainLeadershipEvents(target: StackTarget, topic: string, sqs: SQSClient): Promise<LeadershipEventMessage[]> {
  const events = await drainQueue(sqs, target.outputs.LeadershipEventsQueueUrl);
  return events.filter((event) => event.topic === topic);
}

export function sqsClient(target: StackTarget): SQSClient {
  return new SQSClient({ endpoint: target.endpoint, region: target.region });
}

/**
 * Waits until the live brokers are exactly `brokerIds`: brokers of an earlier test file may
 * still hold leases, and a topic created now would be assigned to them too.
 */
export async function waitForLiveBrokers(client: LeadershipClient, brokerIds: string[], timeoutMs: number): Promise<void> {
  await pollUntil(
    async () => {
      const live = (await client.describe()).brokers.filter((broker) => broker.alive).map((broker) => broker.brokerId);
      return live.length === brokerIds.length && brokerIds.every((id) => live.includes(id));
    },
    { timeoutMs, intervalMs: 200, description: `the live brokers to be exactly ${brokerIds.join(', ')}` },
  );
}
