/** Which resource types the deployer creates, and which it knowingly skips. */
import { dynamoDbTable } from './dynamodb-table.js';
import { eventSourceMapping } from './event-source-mapping.js';
import { eventsRule } from './events-rule.js';
import { lambdaFunction } from './lambda-function.js';
import { logsLogGroup } from './logs-log-group.js';
import { s3Bucket } from './s3-bucket.js';
import { sqsQueue } from './sqs-queue.js';
import { ssmParameter } from './ssm-parameter.js';
import type { ResourceProvisioner } from './types.js';

const PROVISIONERS: ReadonlyMap<string, ResourceProvisioner> = new Map([
  ['AWS::DynamoDB::Table', dynamoDbTable],
  ['AWS::SQS::Queue', sqsQueue],
  ['AWS::Lambda::Function', lambdaFunction],
  ['AWS::Lambda::EventSourceMapping', eventSourceMapping],
  ['AWS::Events::Rule', eventsRule],
  ['AWS::Logs::LogGroup', logsLogGroup],
  // The CDK bootstrap stack's: the staging bucket the CLI uploads to, the version parameter it reads.
  ['AWS::S3::Bucket', s3Bucket],
  ['AWS::SSM::Parameter', ssmParameter],
]);

/**
 * Control-plane-only resources of this project's templates: permissions, metadata, alarms.
 * Nothing in the local data plane enforces or reads them, so skipping them changes no
 * behaviour. Another type fails the deploy as unsupported, so that skipping it is a decision.
 */
const IGNORED_TYPES: ReadonlySet<string> = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Lambda::Permission',
  'AWS::CDK::Metadata',
  'AWS::SQS::QueuePolicy',
  'AWS::CloudWatch::Alarm',
  // Invoke permissions for the operator to attach (Ref gives its ARN, as on AWS); also in the bootstrap stack.
  'AWS::IAM::ManagedPolicy',
  // The rest of the CDK bootstrap stack: nothing here enforces policies, keys or roles, and
  // container image assets are not supported (no ECR), so the repository only needs a name.
  'AWS::S3::BucketPolicy',
  'AWS::ECR::Repository',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
]);

export function provisionerFor(type: string): ResourceProvisioner | undefined {
  return PROVISIONERS.get(type);
}

export function isIgnoredType(type: string): boolean {
  return IGNORED_TYPES.has(type);
}
