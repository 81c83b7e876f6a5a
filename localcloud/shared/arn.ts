/** Parsing of the few ARN shapes the embedded cloud needs to route by. */

export class InvalidArnError extends Error {
  constructor(arn: string, expected: string) {
    super(`"${arn}" is not ${expected}`);
    this.name = 'InvalidArnError';
  }
}

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  /** Everything after the fifth colon, e.g. "table/T/stream/2024-..." or "my-queue". */
  resource: string;
}

export function parseArn(arn: string): Arn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition, service, region, account] = parts;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

/** arn:aws:sqs:us-east-1:123456789012:my-queue → { queueName, account } */
export function parseQueueArn(arn: string): { queueName: string; account: string } {
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== 'sqs' || parsed.resource === '') {
    throw new InvalidArnError(arn, 'an SQS queue ARN');
  }
  return { queueName: parsed.resource, account: parsed.account };
}

/** arn:aws:dynamodb:r:a:table/NAME/stream/LABEL → NAME */
export function tableNameFromStreamArn(arn: string): string {
  const parsed = parseArn(arn);
  const match = parsed?.service === 'dynamodb' ? /^table\/([^/]+)\/stream\//.exec(parsed.resource) : null;
  if (!match) throw new InvalidArnError(arn, 'a DynamoDB stream ARN');
  return match[1];
}

/**
 * Lambda accepts a function name, a full ARN or a partial ARN ("123:function:name"),
 * each optionally qualified (":alias"). The embedded cloud has no versions, so the
 * qualifier is dropped.
 */
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
}

export function isLambdaFunctionArn(arn: string): boolean {
  const parsed = parseArn(arn);
  return parsed?.service === 'lambda' && parsed.resource.startsWith('function:');
}
