/** SDK clients and small data-plane helpers for the tests, pointed at the test's moto. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { localClientConfig } from '../../../../localcloud/shared/aws-clients.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface TestAws {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  destroy(): void;
}

export function testAws(endpoint: string): TestAws {
  const config = localClientConfig({ awsEndpoint: endpoint, region: REGION });
  const dynamodb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  return {
    dynamodb,
    sqs,
    destroy: () => {
      dynamodb.destroy();
      sqs.destroy();
    },
  };
}

/** A pk-only table with a NEW_AND_OLD_IMAGES stream; returns its stream ARN. */
export async function createStreamTable(aws: TestAws, tableName: string): Promise<string> {
  await aws.dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream`);
  return Table.LatestStreamArn;
}

export async function createQueue(
  aws: TestAws,
  queueName: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`no URL for ${queueName}`);
  return { url: QueueUrl, arn: await queueAttribute(aws, QueueUrl, 'QueueArn') };
}

export async function queueAttribute(aws: TestAws, queueUrl: string, name: QueueAttributeName): Promise<string> {
  const { Attributes } = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  const value = Attributes?.[name];
  if (value === undefined) throw new Error(`queue ${queueUrl} has no attribute ${name}`);
  return value;
}

export async function receiveAll(aws: TestAws, queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
  );
  return Messages;
}

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });
