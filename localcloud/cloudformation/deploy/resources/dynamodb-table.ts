/**
 * AWS::DynamoDB::Table. An existing table is kept on redeploy (its data is the
 * point of a local cloud); only a missing stream is added and TTL is switched on.
 * moto's CloudFormation ignores TimeToLiveSpecification, so TTL is set through the
 * data-plane API and handed to the TTL reaper, which does the deleting moto never does.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type KeySchemaElement,
  type Projection,
  type ProvisionedThroughput,
  type StreamViewType,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { isAwsError } from '../../../shared/aws-clients.js';
import { TemplateError } from '../errors.js';
import { physicalName } from '../physical-name.js';
import type { PropertyReader } from '../props.js';
import { describeResource, type ProvisionContext, type ProvisionedResource, type ResourceProvisioner } from './types.js';

const KEY_TYPES = ['HASH', 'RANGE'] as const;
const ATTRIBUTE_TYPES = ['S', 'N', 'B'] as const;
const PROJECTION_TYPES = ['ALL', 'KEYS_ONLY', 'INCLUDE'] as const;
const BILLING_MODES = ['PROVISIONED', 'PAY_PER_REQUEST'] as const;
const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;
const TABLE_NAME_MAX = 255;

function keySchema(props: PropertyReader): KeySchemaElement[] {
  return props.objectList('KeySchema').map((key) => ({
    AttributeName: key.string('AttributeName'),
    KeyType: key.enumValue('KeyType', KEY_TYPES),
  }));
}

function projection(props: PropertyReader): Projection {
  const p = props.optObject('Projection');
  const nonKey = p?.stringList('NonKeyAttributes') ?? [];
  return {
    ProjectionType: p?.optEnum('ProjectionType', PROJECTION_TYPES) ?? 'ALL',
    ...(nonKey.length > 0 ? { NonKeyAttributes: nonKey } : {}),
  };
}

/** Provisioned throughput is required by the API in PROVISIONED mode; CFN would have rejected its absence. */
function throughput(props: PropertyReader | undefined): ProvisionedThroughput {
  return {
    ReadCapacityUnits: props?.optNumber('ReadCapacityUnits') ?? 5,
    WriteCapacityUnits: props?.optNumber('WriteCapacityUnits') ?? 5,
  };
}

function createTableInput(tableName: string, props: PropertyReader): CreateTableCommandInput {
  const billingMode = props.optEnum('BillingMode', BILLING_MODES) ?? 'PROVISIONED';
  const provisioned = billingMode === 'PROVISIONED';
  const gsis = props.objectList('GlobalSecondaryIndexes').map((index) => ({
    IndexName: index.string('IndexName'),
    KeySchema: keySchema(index),
    Projection: projection(index),
    ...(provisioned ? { ProvisionedThroughput: throughput(index.optObject('ProvisionedThroughput')) } : {}),
  }));
  const lsis = props.objectList('LocalSecondaryIndexes').map((index) => ({
    IndexName: index.string('IndexName'),
    KeySchema: keySchema(index),
    Projection: projection(index),
  }));
  const streamViewType = streamViewTypeOf(props);
  return {
    TableName: tableName,
    KeySchema: keySchema(props),
    AttributeDefinitions: props.objectList('AttributeDefinitions').map((attribute) => ({
      AttributeName: attribute.string('AttributeName'),
      AttributeType: attribute.enumValue('AttributeType', ATTRIBUTE_TYPES),
    })),
    BillingMode: billingMode,
    ...(provisioned ? { ProvisionedThroughput: throughput(props.optObject('ProvisionedThroughput')) } : {}),
    ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(lsis.length > 0 ? { LocalSecondaryIndexes: lsis } : {}),
    ...(streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType } } : {}),
  };
}

/** In CloudFormation a StreamSpecification's presence is what enables the stream. */
function streamViewTypeOf(props: PropertyReader): StreamViewType | undefined {
  return props.optObject('StreamSpecification')?.enumValue('StreamViewType', STREAM_VIEW_TYPES);
}

async function describeTable(ctx: ProvisionContext, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await ctx.clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (isAwsError(err, 'ResourceNotFoundException')) return undefined;
    throw err;
  }
}

/** Brings an existing table's stream in line with the template where the emulator allows it. */
async function reconcileStream(ctx: ProvisionContext, existing: TableDescription, wanted: StreamViewType | undefined) {
  const current = existing.StreamSpecification?.StreamEnabled ? existing.StreamSpecification.StreamViewType : undefined;
  if (wanted === current || wanted === undefined) return;
  if (current !== undefined) {
    // Changing the view type means disabling and re-enabling the stream, which moto refuses.
    ctx.log.warn(`${existing.TableName}: stream view type ${current} kept (template asks ${wanted}); delete the table to change it`);
    return;
  }
  await ctx.clients.dynamodb.send(
    new UpdateTableCommand({
      TableName: existing.TableName,
      StreamSpecification: { StreamEnabled: true, StreamViewType: wanted },
    }),
  );
}

async function enableTtl(ctx: ProvisionContext, tableName: string, attributeName: string): Promise<void> {
  const current = await ctx.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const description = current.TimeToLiveDescription;
  if (description?.TimeToLiveStatus === 'ENABLED' && description.AttributeName === attributeName) return;
  await ctx.clients.dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: attributeName, Enabled: true },
    }),
  );
}

export const dynamoDbTable: ResourceProvisioner = {
  async provision(ctx): Promise<ProvisionedResource> {
    const { props } = ctx;
    const tableName = props.optString('TableName') ?? physicalName(ctx.stackName, ctx.logicalId, TABLE_NAME_MAX);
    const input = createTableInput(tableName, props);
    const existing = await describeTable(ctx, tableName);
    if (existing) {
      ctx.log.debug(`table ${tableName} exists: kept (key schema and index changes are not applied)`);
      await reconcileStream(ctx, existing, streamViewTypeOf(props));
    } else {
      await ctx.clients.dynamodb.send(new CreateTableCommand(input));
    }

    const ttl = props.optObject('TimeToLiveSpecification');
    if (ttl?.optBoolean('Enabled')) {
      const attributeName = ttl.string('AttributeName');
      await enableTtl(ctx, tableName, attributeName);
      ctx.target.ttl.add({ tableName, attributeName });
    }

    const table = await describeTable(ctx, tableName);
    if (!table?.TableArn) throw new TemplateError(`${describeResource(ctx)}: table ${tableName} vanished after creation`);
    const attributes: Record<string, string> = { Arn: table.TableArn };
    if (table.LatestStreamArn) attributes.StreamArn = table.LatestStreamArn;
    return { physicalId: tableName, attributes };
  },
  async delete(ctx) {
    ctx.target.ttl.remove(ctx.physicalId);
    try {
      await ctx.clients.dynamodb.send(new DeleteTableCommand({ TableName: ctx.physicalId }));
    } catch (err) {
      if (!isAwsError(err, 'ResourceNotFoundException')) throw err;
    }
  },
};
