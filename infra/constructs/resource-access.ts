/**
 * One call per (function, resource): grants exactly the access AND sets the
 * environment variable the function's wiring reads, so a grant can never exist
 * without its variable or the other way round.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { TableAccess } from '../../functions/function-table.js';

export function useTable(fn: lambda.Function, table: dynamodb.ITable, envName: string, access: TableAccess): void {
  if (access === 'read') table.grantReadData(fn);
  else table.grantReadWriteData(fn);
  fn.addEnvironment(envName, table.tableName);
}

/** Send-only: the functions publish; whoever consumes the events gets its own grant. */
export function useQueue(fn: lambda.Function, queue: sqs.IQueue, envName: string): void {
  queue.grantSendMessages(fn);
  fn.addEnvironment(envName, queue.queueUrl);
}
