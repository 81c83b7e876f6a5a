/** Event source mapping specs for tests, with Lambda's defaults; a test overrides what it is about. */
import { randomUUID } from 'node:crypto';
import type { EventSourceMappingSpec } from '../types.js';

/** Lambda's defaults whatever the source (the batch size and the starting position depend on it). */
const lambdaDefaults = () => ({
  uuid: randomUUID(),
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: false,
  reportBatchItemFailures: false,
  filterPatterns: [],
  enabled: true,
});

export function streamMapping(
  functionName: string,
  eventSourceArn: string,
  tableName: string,
  overrides: Partial<EventSourceMappingSpec> = {},
): EventSourceMappingSpec {
  return {
    ...lambdaDefaults(),
    functionName,
    source: { kind: 'dynamodb', eventSourceArn, tableName },
    batchSize: 100,
    startingPosition: 'TRIM_HORIZON',
    ...overrides,
  };
}

export function sqsMapping(
  functionName: string,
  queue: { url: string; arn: string },
  overrides: Partial<EventSourceMappingSpec> = {},
): EventSourceMappingSpec {
  return {
    ...lambdaDefaults(),
    functionName,
    source: { kind: 'sqs', eventSourceArn: queue.arn, queueUrl: queue.url },
    batchSize: 10,
    ...overrides,
  };
}
