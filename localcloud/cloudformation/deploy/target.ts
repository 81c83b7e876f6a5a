/** What a deployment writes into, and what it reports back. */
import type { EventSourceMappings } from '../../esm/event-source-mappings.js';
import type { LogGroupRegistry } from '../../logs/store.js';
import type { Scheduler } from '../../schedule/scheduler.js';
import type { TtlReaper } from '../../data-plane/ttl-reaper.js';
import type { LambdaRuntime } from '../../types.js';

export interface DeployTarget {
  runtime: LambdaRuntime;
  /** The edge URL (moto behind it for S3, SQS, SSM; DynamoDB Local for tables). */
  awsEndpoint: string;
  region: string;
  accountId: string;
  esm: EventSourceMappings;
  scheduler: Scheduler;
  ttl: TtlReaper;
  logs: LogGroupRegistry;
}

export interface DeployedResource {
  logicalId: string;
  type: string;
  physicalId: string;
  /** What Fn::GetAtt read; kept so that a later update can resolve against them and delete can find the resource. */
  attributes: Record<string, string>;
  /** The template's DeletionPolicy: `Retain` survives stack deletion and replacement. */
  deletionPolicy?: string;
}

export interface DeployedStack {
  stackName: string;
  outputs: Record<string, string>;
  /** In creation order; deletion goes in reverse. */
  resources: DeployedResource[];
  /** Output key → the name it is exported under (Export.Name), for the outputs that have one. */
  exportNames?: Record<string, string>;
}
