/** The contract every resource type's provisioner implements. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../shared/log.js';
import type { AssetIndex } from '../assembly.js';
import type { PropertyReader } from '../props.js';
import type { DeployTarget } from '../target.js';

export interface DeployClients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
}

export interface ProvisionContext {
  stackName: string;
  logicalId: string;
  resourceType: string;
  /** The resource's properties, intrinsics already resolved. */
  props: PropertyReader;
  target: DeployTarget;
  clients: DeployClients;
  assets: AssetIndex;
  partition: string;
  log: Logger;
}

export interface ProvisionedResource {
  /** What Ref returns. */
  physicalId: string;
  /** What Fn::GetAtt can read. */
  attributes: Record<string, string>;
}

export interface ResourceProvisioner {
  provision(ctx: ProvisionContext): Promise<ProvisionedResource>;
}

/** "AWS::SQS::Queue Work in stack S": how errors and logs name a resource. */
export function describeResource(ctx: Pick<ProvisionContext, 'resourceType' | 'logicalId' | 'stackName'>): string {
  return `${ctx.resourceType} ${ctx.logicalId} in stack ${ctx.stackName}`;
}
