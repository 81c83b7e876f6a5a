/** A DeployTarget around a fake runtime, for deploying into a test's moto. */
import { EventSourceMappings } from '../../esm/event-source-mappings.js';
import { LogStore } from '../../logs/store.js';
import type { DeployTarget } from '../../cloudformation/deploy/target.js';
import { Scheduler } from '../../schedule/scheduler.js';
import { TtlReaper } from '../../data-plane/ttl-reaper.js';
import { ACCOUNT_ID, REGION } from '../../testing/aws.js';
import { FakeLambdaRuntime } from './fake-runtime.js';

export interface TestTarget extends DeployTarget {
  runtime: FakeLambdaRuntime;
  logs: LogStore;
}

export function testTarget(awsEndpoint: string): TestTarget {
  const runtime = new FakeLambdaRuntime();
  return {
    runtime,
    awsEndpoint,
    region: REGION,
    accountId: ACCOUNT_ID,
    esm: new EventSourceMappings(runtime, { awsEndpoint, region: REGION }),
    scheduler: new Scheduler(runtime, { region: REGION, accountId: ACCOUNT_ID }),
    ttl: new TtlReaper({ awsEndpoint, region: REGION }),
    logs: new LogStore(),
  };
}
