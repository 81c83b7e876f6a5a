/**
 * Deploys a synthesized CDK cloud assembly (cdk.out) into the embedded cloud:
 * tables into DynamoDB Local, queues and buckets into moto, functions into the Lambda runtime, event source
 * mappings, schedules and TTLs into their emulators. It never imports the app's
 * code: it runs whatever the assembly holds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { localClientConfig } from './shared/aws-clients.js';
import { readAssembly } from './deploy/assembly.js';
import { StackDeployment } from './deploy/stack-deployment.js';
import type { DeployedStack, DeployTarget } from './deploy/target.js';

export type { DeployedStack, DeployTarget } from './deploy/target.js';
export {
  AssemblyError,
  DeployError,
  ResourceCreationError,
  TemplateError,
  UnknownIntrinsicError,
  UnsupportedResourceTypeError,
} from './deploy/errors.js';

/**
 * Deploys every stack of the assembly, dependencies first. All stacks are
 * validated before the first resource is created, so an unsupported resource type
 * or unknown intrinsic anywhere leaves nothing half-deployed. Redeploying is
 * idempotent: names are deterministic and existing tables/queues are kept.
 */
export async function deployAssembly(assemblyDir: string, target: DeployTarget): Promise<DeployedStack[]> {
  const stacks = readAssembly(assemblyDir);
  const config = localClientConfig(target);
  const clients = { dynamodb: new DynamoDBClient(config), sqs: new SQSClient(config) };
  try {
    const assembly = { target, clients, exports: new Map<string, string>() };
    const deployments = stacks.map((stack) => new StackDeployment(stack, assembly));
    for (const deployment of deployments) deployment.validate();
    const deployed: DeployedStack[] = [];
    for (const deployment of deployments) deployed.push(await deployment.deploy());
    return deployed;
  } finally {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  }
}
