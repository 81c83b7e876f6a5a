/** The embedded local AWS cloud: see README.md in this directory. */
export { LocalCloud, startLocalCloud, type LocalCloudOptions } from './cloud.js';
export { findFreePort, MotoNotInstalledError, MotoStartError, startMoto, type MotoOptions, type MotoServer } from './data-plane/moto.js';
export { FunctionNotFoundError, WorkerLambdaRuntime, type WorkerRuntimeOptions } from './lambda/runtime.js';
export { PoolClosedError } from './lambda/sandbox-pool.js';
export { Edge, EdgePortInUseError, type EdgeHandler, type EdgeOptions, type EdgeRoute } from './edge/edge.js';
export { lambdaApi, type EventSourceMappingCatalog, type LambdaApiOptions } from './lambda/api.js';
export type { LogSink } from './lambda/invocation-logs.js';
export type { DeployedStack, DeployTarget } from './cloudformation/deploy/target.js';
export { EventSourceMappings } from './esm/event-source-mappings.js';
export { TtlReaper } from './data-plane/ttl-reaper.js';
export { ChaosFaults, DEFAULT_CHAOS_RATES, FAULT_KINDS, InvalidChaosOptionsError, type ChaosOptions, type ChaosRates, type FaultKind } from './chaos.js';
export { Scheduler } from './schedule/scheduler.js';
export type * from './types.js';
export { TooManyRequestsError } from './types.js';
export { UsageMeter, UNBILLED_CALLERS, type CapacityUsage, type LambdaUsage, type RequestUsage, type UsageReport } from './billing/usage-meter.js';
