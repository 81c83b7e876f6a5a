/**
 * AWS SDK clients for tests, pointed at a local endpoint (a test's moto, or the edge),
 * and small data-plane helpers. Credentials are the embedded cloud's dummies
 * (localClientConfig): a test never picks up a developer's profile or process.env.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, localClientConfig, type LocalClientConfig } from '../shared/aws-clients.js';

export const REGION = 'us-east-1';
/** moto's default account, which it uses for any access key it has not issued itself. */
export const ACCOUNT_ID = '123456789012';

/** SDK client configuration for `endpoint`, with the local dummy credentials. */
export function testClientConfig(endpoint: string, overrides: Partial<LocalClientConfig> = {}): LocalClientConfig {
  return { ...localClientConfig({ awsEndpoint: endpoint, region: REGION }), ...overrides };
}

/** The same dummy credentials, as environment variables for a CLI run as a child process (aws, cdk). */
export const TEST_CREDENTIALS_ENV = {
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
};

export interface TestAws {
  endpoint: string;
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  sqs: SQSClient;
}

/** Clients on `endpoint`; the caller destroys them. */
export function testAws(endpoint: string): TestAws & { destroy(): void } {
  const config = testClientConfig(endpoint);
  const dynamodb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const sqs = new SQSClient(config);
  return {
    endpoint,
    dynamodb,
    streams,
    sqs,
    destroy: () => {
      dynamodb.destroy();
      streams.destroy();
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
