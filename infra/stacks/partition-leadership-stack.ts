import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DEPENDENCY_ENV,
  FUNCTION_SPECS,
  scheduleEnabled,
  scheduleRateMinutes,
  dependenciesOf,
  type FunctionSpec,
  type StreamFilter,
  type Timeout,
} from '../../functions/function-table.js';
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
 * The functions, with what they use and what triggers them, come from
 * functions/function-table.ts.
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
    for (const spec of FUNCTION_SPECS) {
      const fnProps: LeadershipFunctionProps = {
        ...functionDefaults,
        handlerFile: spec.handlerFile,
        description: spec.description,
        timeout: resolveTimeout(spec.timeout, settings),
      };
      const fn = this.addTriggeredFunction(spec, fnProps, tables);
      for (const dependency of dependenciesOf(spec)) {
        if (dependency === 'events') useQueue(fn, leadershipEvents, DEPENDENCY_ENV.events);
        else useTable(fn, tables[dependency], DEPENDENCY_ENV[dependency], spec.uses[dependency]!);
      }
      new CfnOutput(this, spec.output, { value: fn.functionName });
    }

    const outputs: Record<string, string> = {
      BrokersTableName: tables.brokers.tableName,
      MetadataTableName: tables.metadata.tableName,
      LogTableName: tables.log.tableName,
      LeadershipEventsQueueUrl: leadershipEvents.queueUrl,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }

  /** The function of `spec` under its table construct id, with its trigger (and, for a stream, its DLQ output). */
  private addTriggeredFunction(spec: FunctionSpec, fnProps: LeadershipFunctionProps, tables: LeadershipTables): lambda.Function {
    const { trigger } = spec;
    switch (trigger.kind) {
      case 'invoke':
        return new LeadershipFunction(this, spec.id, fnProps);
      case 'schedule': {
        const fn = new LeadershipFunction(this, spec.id, fnProps);
        // Named after the function, so the rules keep the logical ids they were deployed with (SweepSchedule, ...).
        new events.Rule(this, `${spec.id}Schedule`, {
          description: trigger.ruleDescription,
          schedule: events.Schedule.rate(Duration.minutes(scheduleRateMinutes(trigger, fnProps.settings))),
          enabled: scheduleEnabled(trigger, fnProps.settings),
          // No retries: a failed run is superseded by the next scheduled one.
          targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
        });
        return fn;
      }
      case 'stream': {
        const streamed = new StreamTriggeredFunction(this, spec.id, {
          ...fnProps,
          table: tables[trigger.table],
          filters: trigger.filters.map(filterCriteria),
          batchSize: trigger.batchSize,
          maxRecordAge: trigger.maxRecordAgeSeconds === undefined ? undefined : Duration.seconds(trigger.maxRecordAgeSeconds),
          retryAttempts: trigger.retryAttempts,
        });
        new CfnOutput(this, trigger.dlqOutput, { value: streamed.dlq.queueUrl });
        return streamed.fn;
      }
    }
  }
}

function resolveTimeout(timeout: Timeout, settings: LeadershipSettings): Duration {
  if ('seconds' in timeout) return Duration.seconds(timeout.seconds);
  return Duration.seconds(Math.ceil(settings[timeout.outlives] / 1000) + timeout.bySeconds);
}

function filterCriteria(filter: StreamFilter): Record<string, unknown> {
  const newImage = filter.newImageEquals;
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.or(...filter.eventNames),
    ...(newImage && {
      dynamodb: {
        NewImage: Object.fromEntries(
          Object.entries(newImage).map(([attribute, value]) => {
            // FilterRule's helpers are typed `any`; the pattern they build is plain JSON.
            const equals: unknown = lambda.FilterRule.isEqual(value);
            return [attribute, { S: equals }];
          }),
        ),
      },
    }),
  });
}
