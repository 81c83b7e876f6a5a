/**
 * One call per (function, resource): grants exactly the access AND sets the
 * environment variable the function's wiring reads, so a grant can never exist
 * without its variable or the other way round.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { OBJECT_PREFIX } from '../../functions/adapters/s3/keys.js';
import type { ObjectAccess, TableAccess } from '../../functions/function-table.js';

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

/** The S3 actions of each access to the diskless objects (function-table.ts ObjectAccess). */
export const OBJECT_ACTIONS: Readonly<Record<ObjectAccess, readonly string[]>> = {
  read: ['s3:GetObject'],
  write: ['s3:GetObject', 's3:PutObject'],
  sweep: ['s3:GetObject', 's3:DeleteObject'],
};

/**
 * Object actions on the objects' prefix alone; the sweep also lists the bucket, only
 * under that prefix (ListBucket is a bucket action, narrowed by its `s3:prefix` key).
 */
export function useBucket(fn: lambda.Function, bucket: s3.Bucket, envName: string, access: ObjectAccess): void {
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: [...OBJECT_ACTIONS[access]],
    resourceArns: [bucket.arnForObjects(`${OBJECT_PREFIX}/*`)],
  });
  if (access === 'sweep') {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${OBJECT_PREFIX}/*`] } },
      }),
    );
  }
  const bucketId = Stack.of(bucket).resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${OBJECT_PREFIX}/*]`,
    reason: `Object keys of diskless topics are made per produce call (${OBJECT_PREFIX}/<minute>/<time>-<random>), so a grant on them names their prefix with a wildcard; the actions are listed one by one and the bucket is the stack's own.`,
  });
  fn.addEnvironment(envName, bucket.bucketName);
}
