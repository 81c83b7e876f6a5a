import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type MotoServer } from '../../../localcloud/index.js';
import { repoRoot, synthesize } from '../../../tools/synth.js';
import { REGION, TEST_CREDENTIALS_ENV, testClientConfig } from '../../support/aws.js';

const run = promisify(execFile);

/**
 * Control-plane smoke test of the CLI deploy path: the real `cdk bootstrap` and
 * `cdk deploy --method=direct` of the project's stack against a bare moto_server
 * (settings from the moto spike: endpoint host `localhost`, no bootstrap-version rule).
 * moto runs no Lambda code, so this proves the template deploys, not that it runs.
 */
describe('real CDK CLI deploy of the stack into moto', () => {
  const stackName = 'PartitionLeadershipCli';
  const assemblyDir = join(repoRoot, '.localcloud', 'cdk.out.cli');
  let moto: MotoServer;
  let endpoint: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    moto = await startMoto();
    endpoint = `http://localhost:${moto.port}`;
    env = {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      ...TEST_CREDENTIALS_ENV,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_CLI_NOTICES: 'false',
    };
    await synthesize({ outdir: assemblyDir, context: { stackName } });
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('bootstraps and deploys with --method=direct, and the stack reports its outputs', async () => {
    const cdk = join(repoRoot, 'node_modules', '.bin', 'cdk');
    await run(cdk, ['bootstrap', 'aws://123456789012/us-east-1', '--app', assemblyDir], { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 });
    await run(cdk, ['deploy', stackName, '--app', assemblyDir, '--method=direct', '--require-approval', 'never'], {
      cwd: repoRoot,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });

    const cloudformation = new CloudFormationClient(testClientConfig(endpoint));
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    expect(Stacks[0]?.StackStatus).toBe('CREATE_COMPLETE');
    const outputs: Record<string, string | undefined> = Object.fromEntries(
      (Stacks[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
    );
    expect(outputs).toMatchObject({ LeadershipEventsQueueUrl: expect.stringContaining('.fifo') });

    const dynamodb = new DynamoDBClient(testClientConfig(endpoint));
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: outputs.BrokersTableName }));
    expect(Table?.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    cloudformation.destroy();
    dynamodb.destroy();
  });
});
