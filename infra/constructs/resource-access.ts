/**
 * One call per (function, resource): grants exactly the access AND sets the
 * environment variable the function's wiring reads, so a grant can never exist
 * without its variable or the other way round.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { TableAccess } from '../../functions/function-table.js';

/**
 * `indexNames`: the table's secondary indexes, which a function with any access to the
 * table may query. CDK's grants on a table that has indexes cover `<table>/index/*`, any
 * index added later included (cdk-nag IAM5); here the grant is made through a reference
 * to the table that knows no indexes, so it names the table alone, and each index is
 * granted by its name.
 */
export function useTable(
  fn: lambda.Function,
  table: dynamodb.ITable,
  indexNames: readonly string[],
  envName: string,
  access: TableAccess,
): void {
  const exact = dynamodb.Table.fromTableAttributes(fn, `${table.node.id}Access`, { tableArn: table.tableArn });
  if (access === 'read') exact.grantReadData(fn);
  else exact.grantReadWriteData(fn);
  if (indexNames.length > 0) {
    // Queries only: an index has no items of its own to get or write.
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: indexNames.map((indexName) => `${table.tableArn}/index/${indexName}`),
    });
  }
  fn.addEnvironment(envName, table.tableName);
}

/** Send-only: the functions publish; whoever consumes the events gets its own grant. */
export function useQueue(fn: lambda.Function, queue: sqs.IQueue, envName: string): void {
  queue.grantSendMessages(fn);
  fn.addEnvironment(envName, queue.queueUrl);
}
