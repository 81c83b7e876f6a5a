/** Building event source mapping specs for the tests, with Lambda's defaults. */
import { randomUUID } from 'node:crypto';
import type { EventSourceMappingSpec } from '../../../../localcloud/types.js';

export function streamMapping(
  functionName: string,
  eventSourceArn: string,
  tableName: string,
  overrides: Partial<EventSourceMappingSpec> = {},
): EventSourceMappingSpec {
  return {
    uuid: randomUUID(),
    functionName,
    source: { kind: 'dynamodb', eventSourceArn, tableName },
    batchSize: 100,
    maximumBatchingWindowInSeconds: 0,
    startingPosition: 'TRIM_HORIZON',
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: -1,
    bisectBatchOnFunctionError: false,
    reportBatchItemFailures: false,
    filterPatterns: [],
    enabled: true,
    ...overrides,
  };
}

export function sqsMapping(
  functionName: string,
  queue: { url: string; arn: string },
  overrides: Partial<EventSourceMappingSpec> = {},
): EventSourceMappingSpec {
  return {
    uuid: randomUUID(),
    functionName,
    source: { kind: 'sqs', eventSourceArn: queue.arn, queueUrl: queue.url },
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: -1,
    bisectBatchOnFunctionError: false,
    reportBatchItemFailures: false,
    filterPatterns: [],
    enabled: true,
    ...overrides,
  };
}
