/**
 * AWS::SQS::Queue. CreateQueue fails when the queue exists with other attributes,
 * so a redeploy looks the queue up first and updates its attributes instead.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { isAwsError } from '../../../shared/aws-clients.js';
import { TemplateError } from '../errors.js';
import { physicalName } from '../physical-name.js';
import type { PropertyReader } from '../props.js';
import { describeResource, type ProvisionContext, type ResourceProvisioner } from './types.js';

const QUEUE_NAME_MAX = 80;
const FIFO_SUFFIX = '.fifo';

/** CloudFormation property → SQS attribute, for the scalar attributes passed through as strings. */
const SCALAR_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
] as const;

/** Properties that CloudFormation takes as JSON objects but SQS takes as JSON strings. */
const JSON_ATTRIBUTES = ['RedrivePolicy', 'RedriveAllowPolicy'] as const;

function queueAttributes(props: PropertyReader, fifo: boolean): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const key of SCALAR_ATTRIBUTES) {
    const value = props.optString(key);
    if (value !== undefined) attributes[key] = value;
  }
  for (const key of JSON_ATTRIBUTES) {
    const value = props.raw(key);
    if (value !== undefined) attributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (fifo) attributes.FifoQueue = 'true';
  return attributes;
}

function queueNameOf(ctx: ProvisionContext, fifo: boolean): string {
  const explicit = ctx.props.optString('QueueName');
  if (explicit === undefined) return physicalName(ctx.stackName, ctx.logicalId, QUEUE_NAME_MAX, fifo ? FIFO_SUFFIX : '');
  if (fifo !== explicit.endsWith(FIFO_SUFFIX)) {
    throw new TemplateError(
      `${describeResource(ctx)}: QueueName "${explicit}" ${fifo ? 'must' : 'must not'} end in ${FIFO_SUFFIX} for a ${fifo ? 'FIFO' : 'standard'} queue`,
    );
  }
  return explicit;
}

async function existingQueueUrl(ctx: ProvisionContext, queueName: string): Promise<string | undefined> {
  try {
    return (await ctx.clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl;
  } catch (err) {
    if (isAwsError(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) return undefined;
    throw err;
  }
}

export const sqsQueue: ResourceProvisioner = {
  async provision(ctx) {
    const fifo = ctx.props.optBoolean('FifoQueue') ?? false;
    const queueName = queueNameOf(ctx, fifo);
    const attributes = queueAttributes(ctx.props, fifo);
    let queueUrl = await existingQueueUrl(ctx, queueName);
    if (queueUrl) {
      // FifoQueue cannot be changed after creation; the name already pins it.
      const { FifoQueue: _immutable, ...mutable } = attributes;
      if (Object.keys(mutable).length > 0) {
        await ctx.clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: mutable }));
      }
    } else {
      const tags = ctx.props.objectList('Tags').map((tag) => [tag.string('Key'), tag.string('Value')] as const);
      const created = await ctx.clients.sqs.send(
        new CreateQueueCommand({
          QueueName: queueName,
          Attributes: attributes,
          ...(tags.length > 0 ? { tags: Object.fromEntries(tags) } : {}),
        }),
      );
      queueUrl = created.QueueUrl;
    }
    if (!queueUrl) throw new TemplateError(`${describeResource(ctx)}: SQS returned no queue URL for ${queueName}`);
    const described = await ctx.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = described.Attributes?.QueueArn;
    if (!arn) throw new TemplateError(`${describeResource(ctx)}: SQS returned no ARN for ${queueName}`);
    return { physicalId: queueUrl, attributes: { Arn: arn, QueueName: queueName, QueueUrl: queueUrl } };
  },
  async delete(ctx) {
    try {
      await ctx.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: ctx.physicalId }));
    } catch (err) {
      if (!isAwsError(err, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue')) throw err;
    }
  },
};
