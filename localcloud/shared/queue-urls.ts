import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseQueueArn } from './arn.js';

/** Queue ARN → queue URL (GetQueueUrl), cached: queues are addressed by URL, referenced by ARN. */
export class QueueUrlResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly sqs: SQSClient) {}

  async resolve(queueArn: string): Promise<string> {
    const cached = this.cache.get(queueArn);
    if (cached) return cached;
    const { queueName, account } = parseQueueArn(queueArn);
    const { QueueUrl } = await this.sqs.send(
      new GetQueueUrlCommand({ QueueName: queueName, QueueOwnerAWSAccountId: account }),
    );
    if (!QueueUrl) throw new Error(`SQS returned no URL for ${queueArn}`);
    this.cache.set(queueArn, QueueUrl);
    return QueueUrl;
  }
}
