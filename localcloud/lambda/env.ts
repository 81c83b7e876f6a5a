/**
 * What a function sees of its sandbox: environment variables and the fixed part of the
 * context object, as the Lambda Node.js runtime sets them up.
 */
import { randomBytes } from 'node:crypto';
import { callerEndpoint } from '../shared/caller.js';
import type { FunctionSpec } from '../types.js';
import type { StaticContext } from './worker-protocol.js';

export interface SandboxSettings {
  region: string;
  /** Where the function's AWS SDK calls go: the edge. */
  awsEndpoint: string;
}

/** The function's log group: its LoggingConfig's, or Lambda's default `/aws/lambda/<function>`. */
export function logGroupName(spec: Pick<FunctionSpec, 'name' | 'logGroup'>): string {
  return spec.logGroup ?? `/aws/lambda/${spec.name}`;
}

/** One log stream per sandbox, named like Lambda's: 2026/11/25/[$LATEST]<32 hex>. */
export function newLogStreamName(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

export function lambdaEnvironment(
  spec: FunctionSpec,
  settings: SandboxSettings,
  logStreamName: string,
): Record<string, string> {
  return {
    // Not Lambda's values, but without the host's PATH a handler could not spawn anything.
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    // The function declares a newer Node runtime than this host's Node 20; the SDK's
    // warning about it would otherwise open every cold start's log.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...spec.environment,
    // Reserved variables come last: Lambda does not let a function override them, and the
    // endpoint and dummy credentials keep every SDK call inside the local cloud.
    AWS_ENDPOINT_URL: settings.awsEndpoint,
    // DynamoDB calls name their function to the edge, which shares DynamoDB Local fairly
    // between functions (see fair-share.ts): one function's burst cannot starve another.
    AWS_ENDPOINT_URL_DYNAMODB: callerEndpoint(settings.awsEndpoint, `lambda:${spec.name}`),
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: callerEndpoint(settings.awsEndpoint, `lambda:${spec.name}`),
    // S3 calls name it too, so that the usage meter charges them to their function.
    AWS_ENDPOINT_URL_S3: callerEndpoint(settings.awsEndpoint, `lambda:${spec.name}`),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: settings.region,
    AWS_DEFAULT_REGION: settings.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(spec),
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
    LAMBDA_TASK_ROOT: spec.codeDir,
    _HANDLER: spec.handler,
    TZ: ':UTC',
  };
}

export function staticContext(spec: FunctionSpec, logStreamName: string): StaticContext {
  return {
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: spec.arn,
    memoryLimitInMB: String(spec.memoryMb),
    logGroupName: logGroupName(spec),
    logStreamName,
  };
}
