import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DEPENDENCY_ENV,
  FUNCTIONS,
  INVOKING_AUDIENCES,
  scheduleEnabled,
  scheduleRateMinutes,
  dependenciesOf,
  type Audience,
  type FunctionName,
  type FunctionSpec,
  type StreamFilter,
  type Timeout,
} from '../../functions/function-table.js';
import type { LeadershipSettings } from '../../functions/ports/index.js';
import { RESOURCE_OUTPUTS, type ResourceKey } from '../../protocol/functions.js';
import type { ReservedConcurrency } from '../context.js';
import { LeadershipFunction, type LeadershipFunctionProps } from '../constructs/leadership-function.js';
import { LeadershipTables } from '../constructs/leadership-tables.js';
import { ObjectsBucket } from '../constructs/objects-bucket.js';
import { useBucket, useQueue, useTable } from '../constructs/resource-access.js';
import { StreamTriggeredFunction } from '../constructs/stream-triggered-function.js';

export interface PartitionLeadershipStackProps extends StackProps {
  /** The domain's tunables, given to every function. */
  readonly settings: LeadershipSettings;
  /** POWERTOOLS_LOG_LEVEL of every function. */
  readonly logLevel: string;
  /** Keep the Log and Metadata tables (deletion protection on), the objects bucket and the log groups when the stack goes. */
  readonly retainData: boolean;
  /** Retention of each function's log group, in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /** Reserved concurrent executions, by function-table key; absent ones share the account's pool. */
  readonly reservedConcurrency: ReservedConcurrency;
}

const SERVICE_NAME = 'partition-leadership';

/** The output giving the ARN of an audience's invoke policy, e.g. ClientInvokePolicyArn. */
export const invokePolicyOutput = (audience: Exclude<Audience, 'internal'>): string =>
  `${audience[0].toUpperCase()}${audience.slice(1)}InvokePolicyArn`;

const AUDIENCE_DESCRIPTIONS: Record<Exclude<Audience, 'internal'>, string> = {
  client: 'Producers and consumers',
  broker: 'Brokers (heartbeat, controlled shutdown)',
  admin: 'Operators (topic creation, leader elections)',
};

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
    const tables = new LeadershipTables(this, 'Tables', { retainData: props.retainData });
    const objects = new ObjectsBucket(this, 'Objects', { retainData: props.retainData });

    // The publisher sets the deduplication ids (topic-partition-epoch-reason-version), so content-based dedup stays off.
    // Explicit name: a FIFO queue needs one ending in .fifo (moto's CloudFormation insists).
    const leadershipEvents = new sqs.Queue(this, 'LeadershipEvents', {
      queueName: `${this.stackName}-leadership-events.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      enforceSSL: true,
      // SSE-SQS: the default for new queues, stated so that it stays so (cdk-nag SQS2).
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    Validations.of(leadershipEvents).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'No dead-letter queue for the leadership events: they are notifications, received and deleted at once by observers (client/leadership-events.ts) that never fail on one, and the Metadata table, not the queue, is the source of truth. A redrive would take an event out of its partition\'s FIFO message group order.',
    });

    const functionDefaults = {
      logLevel: props.logLevel,
      serviceName: SERVICE_NAME,
      settings,
      logRetentionDays: props.logRetentionDays,
      logRemovalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    const invokable = new Map<Audience, lambda.Function[]>();
    for (const [name, spec] of Object.entries(FUNCTIONS) as Array<[FunctionName, FunctionSpec]>) {
      const fnProps: LeadershipFunctionProps = {
        ...functionDefaults,
        handlerFile: spec.handlerFile,
        description: spec.description,
        timeout: resolveTimeout(spec.timeout, settings),
        reservedConcurrentExecutions: (props.reservedConcurrency as Partial<Record<FunctionName, number>>)[name],
      };
      const fn = this.addTriggeredFunction(spec, fnProps, tables);
      for (const dependency of dependenciesOf(spec)) {
        if (dependency === 'events') useQueue(fn, leadershipEvents, DEPENDENCY_ENV.events);
        else if (dependency === 'objects') useBucket(fn, objects.bucket, DEPENDENCY_ENV.objects, spec.uses.objects!);
        else useTable(fn, tables[dependency], tables.indexNames[dependency], DEPENDENCY_ENV[dependency], spec.uses[dependency]!);
      }
      invokable.set(spec.audience, [...(invokable.get(spec.audience) ?? []), fn]);
      new CfnOutput(this, spec.output, { value: fn.functionName });
    }

    // Who may call what: one managed policy per audience, for the operator to attach to the
    // roles, users or groups of that kind of caller (the stack makes no principals). Nothing
    // else in the account is allowed to invoke these functions unless some other policy
    // says so (lambda:InvokeFunction on *, e.g. AdministratorAccess or PowerUserAccess).
    // Internal functions are in none: their triggers invoke them (the stream mappings with
    // the function's own role, the schedules through their AWS::Lambda::Permission).
    for (const audience of INVOKING_AUDIENCES) {
      const functions = invokable.get(audience) ?? [];
      if (functions.length === 0) continue;
      const policy = new iam.ManagedPolicy(this, `${invokePolicyOutput(audience).replace(/Arn$/, '')}`, {
        description: `${AUDIENCE_DESCRIPTIONS[audience]} of stack ${this.stackName}: may invoke exactly its ${audience} functions.`,
        statements: [
          new iam.PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            // Unqualified ARNs: $LATEST, the only version this stack publishes.
            resources: functions.map((fn) => fn.functionArn),
          }),
        ],
      });
      new CfnOutput(this, invokePolicyOutput(audience), {
        value: policy.managedPolicyArn,
        description: `Attach to the roles, users or groups of ${AUDIENCE_DESCRIPTIONS[audience].toLowerCase()}.`,
      });
    }

    // Named by the protocol, which the client reads them by.
    const resources: Record<ResourceKey, string> = {
      brokersTable: tables.brokers.tableName,
      metadataTable: tables.metadata.tableName,
      logTable: tables.log.tableName,
      leadershipEventsQueue: leadershipEvents.queueUrl,
      objectsBucket: objects.bucket.bucketName,
    };
    for (const [key, value] of Object.entries(resources) as Array<[ResourceKey, string]>) new CfnOutput(this, RESOURCE_OUTPUTS[key], { value });
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
  // FilterRule's helpers are typed `any`; the pattern they build is plain JSON.
  const equal = Object.entries(filter.newImageEquals ?? {}).map(([attribute, value]): [string, unknown] => {
    const equals: unknown = lambda.FilterRule.isEqual(value);
    return [attribute, { S: equals }];
  });
  const absent = (filter.newImageWithout ?? []).map((attribute): [string, unknown] => {
    const notExists: unknown = lambda.FilterRule.notExists();
    return [attribute, { BOOL: notExists }];
  });
  const newImage = [...equal, ...absent];
  return lambda.FilterCriteria.filter({
    eventName: lambda.FilterRule.or(...filter.eventNames),
    ...(newImage.length > 0 && { dynamodb: { NewImage: Object.fromEntries(newImage) } }),
  });
}
