/**
 * AWS::Lambda::EventSourceMapping → EventSourceMappings.upsert. The mapping is
 * never created inside moto (there it would consume the stream synchronously);
 * our own pollers run it. Defaults are Lambda's. Scaling settings
 * (ParallelizationFactor, ScalingConfig) are not emulated: one batch at a time per
 * shard or queue, which keeps every ordering guarantee Lambda gives.
 */
import { functionNameOf, parseArn, tableNameFromStreamArn } from '../../../shared/arn.js';
import { deterministicUuid } from '../../../shared/ids.js';
import { QueueUrlResolver } from '../../../shared/queue-urls.js';
import type { EventSourceMappingSpec } from '../../../types.js';
import { TemplateError } from '../errors.js';
import { describeResource, type ProvisionContext, type ResourceProvisioner } from './types.js';

const STREAM_DEFAULT_BATCH_SIZE = 100;
const SQS_DEFAULT_BATCH_SIZE = 10;
const STARTING_POSITIONS = ['TRIM_HORIZON', 'LATEST'] as const;

async function sourceOf(ctx: ProvisionContext, eventSourceArn: string): Promise<EventSourceMappingSpec['source']> {
  const service = parseArn(eventSourceArn)?.service;
  if (service === 'dynamodb') {
    return { kind: 'dynamodb', eventSourceArn, tableName: tableNameFromStreamArn(eventSourceArn) };
  }
  if (service === 'sqs') {
    const queueUrl = await new QueueUrlResolver(ctx.clients.sqs).resolve(eventSourceArn);
    return { kind: 'sqs', eventSourceArn, queueUrl };
  }
  throw new TemplateError(
    `${describeResource(ctx)}: event source ${eventSourceArn} is not supported locally (only DynamoDB streams and SQS queues)`,
  );
}

export const eventSourceMapping: ResourceProvisioner = {
  async provision(ctx) {
    const { props } = ctx;
    const where = describeResource(ctx);
    const source = await sourceOf(ctx, props.string('EventSourceArn'));
    const isStream = source.kind === 'dynamodb';
    const startingPosition = props.optEnum('StartingPosition', STARTING_POSITIONS);
    if (isStream && startingPosition === undefined) {
      throw new TemplateError(`${where}: a stream mapping needs StartingPosition TRIM_HORIZON or LATEST`);
    }
    const onFailure = props.optObject('DestinationConfig')?.optObject('OnFailure')?.optString('Destination');
    const spec: EventSourceMappingSpec = {
      uuid: deterministicUuid(`${ctx.stackName}/${ctx.logicalId}`),
      functionName: functionNameOf(props.string('FunctionName')),
      source,
      batchSize: props.optNumber('BatchSize') ?? (isStream ? STREAM_DEFAULT_BATCH_SIZE : SQS_DEFAULT_BATCH_SIZE),
      maximumBatchingWindowInSeconds: props.optNumber('MaximumBatchingWindowInSeconds') ?? 0,
      ...(startingPosition ? { startingPosition } : {}),
      maximumRetryAttempts: props.optNumber('MaximumRetryAttempts') ?? -1,
      maximumRecordAgeInSeconds: props.optNumber('MaximumRecordAgeInSeconds') ?? -1,
      bisectBatchOnFunctionError: props.optBoolean('BisectBatchOnFunctionError') ?? false,
      ...(onFailure ? { onFailureDestinationArn: onFailure } : {}),
      reportBatchItemFailures: props.stringList('FunctionResponseTypes').includes('ReportBatchItemFailures'),
      filterPatterns: (props.optObject('FilterCriteria')?.objectList('Filters') ?? []).map((f) => f.string('Pattern')),
      enabled: props.optBoolean('Enabled') ?? true,
    };
    ctx.target.esm.upsert(spec);
    const arn = `arn:${ctx.partition}:lambda:${ctx.target.region}:${ctx.target.accountId}:event-source-mapping:${spec.uuid}`;
    return { physicalId: spec.uuid, attributes: { Id: spec.uuid, EventSourceMappingArn: arn } };
  },
  delete(ctx) {
    ctx.target.esm.remove(ctx.physicalId);
    return Promise.resolve();
  },
};
