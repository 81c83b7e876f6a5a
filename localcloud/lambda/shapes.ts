/**
 * The embedded cloud's records rendered as the Lambda API's response shapes. The SDK's
 * types are used for checking only (type imports, erased at runtime); no field here is a
 * timestamp, whose wire and SDK forms differ.
 */
import type { EventSourceMappingConfiguration, FunctionConfiguration } from '@aws-sdk/client-lambda';
import { logGroupName } from './env.js';
import type { EventSourceMappingSpec, FunctionSpec } from '../types.js';

export function functionConfiguration(spec: FunctionSpec): FunctionConfiguration {
  return {
    FunctionName: spec.name,
    FunctionArn: spec.arn,
    Runtime: spec.runtime as FunctionConfiguration['Runtime'],
    Handler: spec.handler,
    Timeout: spec.timeoutSeconds,
    MemorySize: spec.memoryMb,
    Version: '$LATEST',
    Environment: { Variables: spec.environment },
    // Registered means runnable: there is no asynchronous creation to wait for.
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    TracingConfig: { Mode: 'PassThrough' },
    EphemeralStorage: { Size: 512 },
    LoggingConfig: { LogFormat: 'Text', LogGroup: logGroupName(spec) },
  };
}

export function eventSourceMappingConfiguration(
  spec: EventSourceMappingSpec,
  functionArn: string,
): EventSourceMappingConfiguration {
  const common: EventSourceMappingConfiguration = {
    UUID: spec.uuid,
    EventSourceArn: spec.source.eventSourceArn,
    FunctionArn: functionArn,
    BatchSize: spec.batchSize,
    MaximumBatchingWindowInSeconds: spec.maximumBatchingWindowInSeconds,
    State: spec.enabled ? 'Enabled' : 'Disabled',
    StateTransitionReason: 'USER_INITIATED',
    FunctionResponseTypes: spec.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(spec.filterPatterns.length > 0 && {
      FilterCriteria: { Filters: spec.filterPatterns.map((pattern) => ({ Pattern: pattern })) },
    }),
  };
  // Retry, bisect and destinations exist for stream sources only; SQS retries via the queue.
  if (spec.source.kind === 'sqs') return common;
  return {
    ...common,
    StartingPosition: spec.startingPosition,
    ParallelizationFactor: 1,
    MaximumRetryAttempts: spec.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: spec.maximumRecordAgeInSeconds,
    BisectBatchOnFunctionError: spec.bisectBatchOnFunctionError,
    TumblingWindowInSeconds: 0,
    DestinationConfig: {
      OnFailure: spec.onFailureDestinationArn ? { Destination: spec.onFailureDestinationArn } : {},
    },
  };
}
