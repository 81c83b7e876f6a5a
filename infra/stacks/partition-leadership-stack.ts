import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../../functions/config.js';
import type { LeadershipSettings } from '../../functions/ports/index.js';
import { LeadershipFunction, type LeadershipFunctionProps } from '../constructs/leadership-function.js';
import { LeadershipTables } from '../constructs/leadership-tables.js';
import { useQueue, useTable } from '../constructs/resource-access.js';
import { StreamTriggeredFunction } from '../constructs/stream-triggered-function.js';

export interface PartitionLeadershipStackProps extends StackProps {
  /** The domain's tunables, given to every function. */
  readonly settings: LeadershipSettings;
  /** POWERTOOLS_LOG_LEVEL of every function. */
  readonly logLevel: string;
}

const SERVICE_NAME = 'partition-leadership';

/**
 * Partition leadership on DynamoDB + Lambda + SQS. Data flow of a failover:
 * heartbeat expires -> sweep (or TTL) deletes it -> REMOVE on the heartbeat
 * stream -> failure detector elects (one conditional write) -> event on the
 * leadership FIFO queue. Leader appends on the log stream drive replication.
 */
export class PartitionLeadershipStack extends Stack {
  constructor(scope: Construct, id: string, props: PartitionLeadershipStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const tables = new LeadershipTables(this, 'Tables');

    // The publisher sets the deduplication ids (topic-partition-epoch-reason-version), so content-based dedup stays off.
    // Explicit name: a FIFO queue needs one ending in .fifo (moto's CloudFormation insists).
    const leadershipEvents = new sqs.Queue(this, 'LeadershipEvents', {
      queueName: `${this.stackName}-leadership-events.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      enforceSSL: true,
    });

    const functionDefaults = { logLevel: props.logLevel, serviceName: SERVICE_NAME, settings };
    const invoked = (id: string, fnProps: Omit<LeadershipFunctionProps, keyof typeof functionDefaults>) =>
      new LeadershipFunction(this, id, { ...functionDefaults, ...fnProps });

    const heartbeat = invoked('Heartbeat', {
      handlerFile: 'heartbeat',
      description: 'Broker heartbeat: registers a broker or renews its lease (invoke).',
    });
    useTable(heartbeat, tables.brokers, ENV.brokersTable, 'readWrite');

    const createTopic = invoked('CreateTopic', {
      handlerFile: 'create-topic',
      description: 'Creates a topic and assigns its partitions to live brokers (invoke).',
      timeout: Duration.seconds(30),
    });
    useTable(createTopic, tables.brokers, ENV.brokersTable, 'read');
    useTable(createTopic, tables.metadata, ENV.metadataTable, 'readWrite');
    useQueue(createTopic, leadershipEvents, ENV.leadershipEventsQueueUrl);

    const describe = invoked('Describe', {
      handlerFile: 'describe',
      description: 'Describes topics, partitions (leader, ISR, epoch, HW) and brokers (invoke).',
    });
    useTable(describe, tables.brokers, ENV.brokersTable, 'read');
    useTable(describe, tables.metadata, ENV.metadataTable, 'read');

    const produce = invoked('Produce', {
      handlerFile: 'produce',
      description: 'Appends records on the partition leader and waits for the ISR, acks=all (invoke).',
      // Must outlive the acks=all wait, so a timeout is reported as REQUEST_TIMED_OUT, not as a Lambda timeout.
      timeout: Duration.seconds(Math.ceil(settings.produceAckTimeoutMs / 1000) + 10),
    });
    useTable(produce, tables.metadata, ENV.metadataTable, 'readWrite');
    useTable(produce, tables.log, ENV.logTable, 'readWrite');

    const consume = invoked('Consume', {
      handlerFile: 'consume',
      description: 'Reads a partition from its leader below the high watermark (invoke).',
    });
    useTable(consume, tables.metadata, ENV.metadataTable, 'read');
    useTable(consume, tables.log, ENV.logTable, 'read');

    const sweep = invoked('Sweep', {
      handlerFile: 'sweep',
      description: 'Deletes expired heartbeats every minute; TTL deletion alone can take days (schedule).',
      timeout: Duration.seconds(50),
    });
    useTable(sweep, tables.brokers, ENV.brokersTable, 'readWrite');
    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the expired-heartbeat sweep.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      // No retries: a failed sweep is superseded by the next one a minute later.
      targets: [new targets.LambdaFunction(sweep, { retryAttempts: 0 })],
    });

    const reconcile = invoked('Reconcile', {
      handlerFile: 'reconcile',
      description:
        'Repairs what no stream record may be left to do: elects for dead leaders, shrinks and expands ISRs, finishes replication (schedule).',
      timeout: Duration.seconds(50),
    });
    useTable(reconcile, tables.brokers, ENV.brokersTable, 'read');
    useTable(reconcile, tables.metadata, ENV.metadataTable, 'readWrite');
    useTable(reconcile, tables.log, ENV.logTable, 'readWrite');
    useQueue(reconcile, leadershipEvents, ENV.leadershipEventsQueueUrl);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Runs the partition reconciler.',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(reconcile, { retryAttempts: 0 })],
    });

    const failureDetector = new StreamTriggeredFunction(this, 'FailureDetector', {
      ...functionDefaults,
      handlerFile: 'failure-detector',
      description: 'Elects new leaders when a broker is gone, restores it when it returns (heartbeat stream).',
      timeout: Duration.seconds(60),
      table: tables.brokers,
      // Renewals (MODIFY) carry no leadership information: filtered out before they cost an invocation.
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.or('INSERT', 'REMOVE') })],
      // A heartbeat change older than this has been overtaken by newer ones (and by the sweep).
      maxRecordAge: Duration.seconds(60),
    });
    useTable(failureDetector.fn, tables.brokers, ENV.brokersTable, 'read');
    useTable(failureDetector.fn, tables.metadata, ENV.metadataTable, 'readWrite');
    // After an election the followers are levelled with the new leader (truncate + copy), as in Kafka.
    useTable(failureDetector.fn, tables.log, ENV.logTable, 'readWrite');
    useQueue(failureDetector.fn, leadershipEvents, ENV.leadershipEventsQueueUrl);

    const replicate = new StreamTriggeredFunction(this, 'Replicate', {
      ...functionDefaults,
      handlerFile: 'replicate',
      description: "Copies leader appends to the followers and advances the high watermark (log stream).",
      timeout: Duration.seconds(60),
      table: tables.log,
      // Only the leader's appends: the followers' copies are themselves INSERTs on this stream.
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { NewImage: { copy: { S: lambda.FilterRule.isEqual('leader') } } },
        }),
      ],
    });
    useTable(replicate.fn, tables.brokers, ENV.brokersTable, 'read');
    useTable(replicate.fn, tables.metadata, ENV.metadataTable, 'readWrite');
    useTable(replicate.fn, tables.log, ENV.logTable, 'readWrite');

    const outputs: Record<string, string> = {
      HeartbeatFunctionName: heartbeat.functionName,
      CreateTopicFunctionName: createTopic.functionName,
      DescribeFunctionName: describe.functionName,
      ProduceFunctionName: produce.functionName,
      ConsumeFunctionName: consume.functionName,
      FailureDetectorFunctionName: failureDetector.fn.functionName,
      ReplicateFunctionName: replicate.fn.functionName,
      SweepFunctionName: sweep.functionName,
      ReconcileFunctionName: reconcile.functionName,
      BrokersTableName: tables.brokers.tableName,
      MetadataTableName: tables.metadata.tableName,
      LogTableName: tables.log.tableName,
      LeadershipEventsQueueUrl: leadershipEvents.queueUrl,
      FailureDetectorDlqUrl: failureDetector.dlq.queueUrl,
      ReplicateDlqUrl: replicate.dlq.queueUrl,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
