import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
 * batch's shard/sequence range, to inspect or replay). A record in the DLQ is a
 * change nobody acted on (the reconciler repairs its effect), so the DLQ has an
 * alarm that fires on the first message.
 */
export class StreamTriggeredFunction extends Construct {
  readonly fn: LeadershipFunction;
  readonly dlq: sqs.Queue;
  readonly dlqAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: StreamTriggeredFunctionProps) {
    super(scope, id);
    const { table, filters, batchSize, maxRecordAge, retryAttempts, ...functionProps } = props;
    this.fn = new LeadershipFunction(this, 'Function', functionProps);
    // Encrypted at rest with SQS's own key (SSE-SQS, the default for new queues, stated so
    // that it stays so); it holds batch descriptions (shard, sequence numbers), not records.
    this.dlq = new sqs.Queue(this, 'Dlq', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself a dead-letter queue: the on-failure destination of the function's stream mapping (cdk-nag recognises only queues named in another queue's RedrivePolicy). Nothing consumes it automatically; its alarm fires on the first message.",
    });
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
    Validations.of(this.fn.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "dynamodb:ListStreams, which the stream event source grants for the mapping, has no resource-level permissions (it takes only Resource '*'); every other statement of this role names its table, stream, queue or log group.",
    });
    this.dlqAlarm = new cloudwatch.Alarm(this, 'DlqAlarm', {
      alarmDescription: `Stream records of ${id} were given up on and sent to its dead-letter queue.`,
      metric: this.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
