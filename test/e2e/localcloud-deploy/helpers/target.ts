/** A DeployTarget around a fake runtime, for deploying into a test's moto. */
import { EventSourceMappings } from '../../../../localcloud/event-source-mappings.js';
import type { DeployTarget } from '../../../../localcloud/deployer.js';
import { Scheduler } from '../../../../localcloud/scheduler.js';
import { TtlReaper } from '../../../../localcloud/ttl-reaper.js';
import { FakeLambdaRuntime } from '../../../unit/localcloud-deploy/helpers/fake-runtime.js';
import { ACCOUNT, REGION } from './aws.js';

export interface TestTarget extends DeployTarget {
  runtime: FakeLambdaRuntime;
}

export function testTarget(awsEndpoint: string): TestTarget {
  const runtime = new FakeLambdaRuntime();
  return {
    runtime,
    awsEndpoint,
    region: REGION,
    accountId: ACCOUNT,
    esm: new EventSourceMappings(runtime, { awsEndpoint, region: REGION }),
    scheduler: new Scheduler(runtime, { region: REGION, accountId: ACCOUNT }),
    ttl: new TtlReaper({ awsEndpoint, region: REGION }),
  };
}
