/** A DeployTarget around a fake runtime, for deploying into a test's moto. */
import { EventSourceMappings } from '../../../../localcloud/event-source-mappings.js';
import { LogStore } from '../../../../localcloud/logs.js';
import type { DeployTarget } from '../../../../localcloud/deployer.js';
import { Scheduler } from '../../../../localcloud/scheduler.js';
import { TtlReaper } from '../../../../localcloud/ttl-reaper.js';
import { ACCOUNT_ID, REGION } from '../../../support/aws.js';
import { FakeLambdaRuntime } from '../../../support/fake-runtime.js';

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
