/** The contract every resource type's provisioner implements. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../../shared/log.js';
import type { AssetSource } from '../asset-source.js';
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
  assets: AssetSource;
  partition: string;
  log: Logger;
}

export interface ProvisionedResource {
  /** What Ref returns. */
  physicalId: string;
  /** What Fn::GetAtt can read. */
  attributes: Record<string, string>;
}

/** What deleting a resource needs: the identity it was given, never its (possibly unresolvable) properties. */
export interface DeleteContext {
  stackName: string;
  logicalId: string;
  resourceType: string;
  physicalId: string;
  attributes: Record<string, string>;
  target: DeployTarget;
  clients: DeployClients;
  log: Logger;
}

export interface ResourceProvisioner {
  /** Creates the resource, or brings an existing one (same physical name) in line with the template. */
  provision(ctx: ProvisionContext): Promise<ProvisionedResource>;
  /** Removes it; a resource already gone is not an error. */
  delete(ctx: DeleteContext): Promise<void>;
}

/** "AWS::SQS::Queue Work in stack S": how errors and logs name a resource. */
export function describeResource(ctx: Pick<ProvisionContext, 'resourceType' | 'logicalId' | 'stackName'>): string {
  return `${ctx.resourceType} ${ctx.logicalId} in stack ${ctx.stackName}`;
}
