/** What a deployment writes into, and what it reports back (re-exported by localcloud/deployer.ts). */
import type { EventSourceMappings } from '../event-source-mappings.js';
import type { Scheduler } from '../scheduler.js';
import type { TtlReaper } from '../ttl-reaper.js';
import type { LambdaRuntime } from '../types.js';

export interface DeployTarget {
  runtime: LambdaRuntime;
  /** moto URL, e.g. http://127.0.0.1:5000 */
  awsEndpoint: string;
  region: string;
  accountId: string;
  esm: EventSourceMappings;
  scheduler: Scheduler;
  ttl: TtlReaper;
}

export interface DeployedStack {
  stackName: string;
  outputs: Record<string, string>;
  resources: Array<{ logicalId: string; type: string; physicalId: string }>;
}
