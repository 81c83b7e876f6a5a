import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LeadershipFunction, type LeadershipFunctionProps } from './leadership-function.js';

export interface StreamTriggeredFunctionProps extends LeadershipFunctionProps {
  /** The table whose stream triggers the function (it must have a stream). */
  readonly table: dynamodb.ITable;
  /** Lambda event filters: records that match none are never delivered (nor billed). */
  readonly filters: Array<Record<string, unknown>>;
  /** @default 100 */
  readonly batchSize?: number;
  /**
   * Records older than this are sent to the DLQ instead of being processed.
   * @default - no limit (bounded by retryAttempts)
   */
  readonly maxRecordAge?: Duration;
  /** @default 5 */
  readonly retryAttempts?: number;
}

/**
 * A function fed by a DynamoDB stream, with the defaults that keep a poison
 * record from blocking its shard for 24 h: partial batch responses, bisect on
 * error, bounded retries and an SQS on-failure destination (which receives the
 * batch's shard/sequence range, to inspect or replay).
 */
export class StreamTriggeredFunction extends Construct {
  readonly fn: LeadershipFunction;
  readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: StreamTriggeredFunctionProps) {
    super(scope, id);
    const { table, filters, batchSize, maxRecordAge, retryAttempts, ...functionProps } = props;
    this.fn = new LeadershipFunction(this, 'Function', functionProps);
    this.dlq = new sqs.Queue(this, 'Dlq', { retentionPeriod: Duration.days(14), enforceSSL: true });
    this.fn.addEventSource(
      new DynamoEventSource(table, {
        // Every record, from the oldest still in the stream: nothing is skipped after a deploy or outage.
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: batchSize ?? 100,
        bisectBatchOnError: true,
        maxRecordAge,
        retryAttempts: retryAttempts ?? 5,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.dlq),
        filters,
      }),
    );
  }
}
