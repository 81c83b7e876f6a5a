/**
 * What the CloudFormation service reads from S3 (a fake S3 here: GET of /bucket/key): function
 * code objects, whose content may change under the same key, and templates named by TemplateURL.
 * Functions run in the real worker-thread runtime.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { useRouteServer } from '../../support/serve-route.js';
import { CloudFormationService } from '../../../cloudformation/service.js';
import { CodeCache } from '../../../cloudformation/deploy/code-cache.js';
import type { DeployClients } from '../../../cloudformation/deploy/resources/types.js';
import type { DeployTarget } from '../../../cloudformation/deploy/target.js';
import { WorkerLambdaRuntime } from '../../../lambda/runtime.js';

const objects = new Map<string, Uint8Array>();
const s3 = useRouteServer(() => (method, url) => {
  if (method !== 'GET') return undefined;
  return (_req, res) => {
    const body = objects.get(decodeURIComponent(url.pathname));
    if (body) res.writeHead(200).end(body);
    else res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
    return Promise.resolve();
  };
});

const runtime = new WorkerLambdaRuntime({ region: 'us-east-1', awsEndpoint: 'http://127.0.0.1:9' });
const codeCache = CodeCache.create();
afterAll(async () => {
  await runtime.close();
  codeCache.dispose();
});

function service(): CloudFormationService {
  // Only functions deploy here: no data plane, pollers or schedules.
  const target: Partial<DeployTarget> = { runtime, region: 'us-east-1', accountId: '123456789012', awsEndpoint: s3.url() };
  return new CloudFormationService({ target: target as DeployTarget, clients: {} as DeployClients, codeCache });
}

const codeZip = (version: string) => zipSync({ 'index.js': strToU8(`exports.handler = async () => '${version}';\n`) });

function functionTemplate(functionName: string, bucket: string): string {
  return JSON.stringify({
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: functionName, Handler: 'index.handler', Runtime: 'nodejs20.x', Code: { S3Bucket: bucket, S3Key: 'code.zip' } },
      },
    },
  });
}

describe('function code from S3', () => {
  it('runs the object a deployment finds under the key: a stack created after the object changed runs the new code', async () => {
    // A bucket of its own: nothing cached by an earlier run or another test can answer for it.
    const bucket = `code-${randomUUID()}`;
    const cloudFormation = service();
    const create = async (stackName: string, functionName: string): Promise<void> => {
      const version = await cloudFormation.loadTemplate({ templateBody: functionTemplate(functionName, bucket), parameters: [] }, undefined);
      const stack = cloudFormation.createStack(stackName, version, { capabilities: [], tags: [] });
      await cloudFormation.idle();
      expect(stack.status, stack.statusReason).toBe('CREATE_COMPLETE');
    };

    objects.set(`/${bucket}/code.zip`, codeZip('code v1'));
    await create('First', 'first-fn');
    expect((await runtime.invoke('first-fn', {})).payload).toBe('code v1');

    objects.set(`/${bucket}/code.zip`, codeZip('code v2'));
    await create('Second', 'second-fn');
    expect((await runtime.invoke('second-fn', {})).payload).toBe('code v2');
    // As on AWS, a function keeps the code it was created with.
    expect((await runtime.invoke('first-fn', {})).payload).toBe('code v1');
    // Staged in the cloud's private cache, one directory per content.
    const codeDirs = ['first-fn', 'second-fn'].map((name) => runtime.get(name)?.codeDir ?? '');
    expect(codeDirs.every((dir) => dir.startsWith(codeCache.dir + path.sep))).toBe(true);
    expect(codeDirs[0]).not.toBe(codeDirs[1]);
  });
});

describe('TemplateURL', () => {
  const template = (size: number): Uint8Array => {
    const empty = JSON.stringify({ Description: '', Resources: {} });
    return strToU8(JSON.stringify({ Description: 'x'.repeat(size - empty.length), Resources: {} }));
  };

  it('reads a template object of 1,000,000 bytes and refuses a larger one as AWS does', async () => {
    const cloudFormation = service();
    const bucket = `templates-${randomUUID()}`;
    objects.set(`/${bucket}/largest.json`, template(1_000_000));
    objects.set(`/${bucket}/too-large.json`, template(1_000_001));
    const load = (key: string) => cloudFormation.loadTemplate({ templateUrl: `${s3.url()}${bucket}/${key}`, parameters: [] }, undefined);

    expect((await load('largest.json')).template.Resources).toEqual({});
    // Caught, not `rejects`: a template that loads would be printed whole.
    const refused = await load('too-large.json').then(() => 'loaded', (err: unknown) => err);
    expect(refused).toMatchObject({ code: 'ValidationError', message: 'Template may not exceed 1000000 bytes in size.' });
  });
});
