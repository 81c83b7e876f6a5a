/**
 * Contracts between the embedded cloud's parts. The embedded cloud never imports
 * functions/ or infra/: it deploys whatever a synthesized cloud assembly (cdk.out) holds.
 */

export interface FunctionSpec {
  /** Physical function name (what `aws lambda invoke --function-name` takes). */
  name: string;
  /** CloudFormation logical id in the template. */
  logicalId: string;
  arn: string;
  /** Absolute directory of the unpacked asset (cdk.out/asset.<hash>). */
  codeDir: string;
  /** "index.handler" style: file (without extension) inside codeDir, then the export name. */
  handler: string;
  runtime: string;
  /** Resolved environment variables of the function (intrinsics already resolved). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** LoggingConfig.LogGroup: where its logs go; absent, `/aws/lambda/<name>` as on AWS. */
  logGroup?: string;
  /**
   * ReservedConcurrentExecutions: at most this many invocations at once, more are throttled
   * (TooManyRequestsException). Absent: no limit of its own (the sandbox cap queues the excess).
   */
  reservedConcurrency?: number;
}

export interface InvokeError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeResult {
  requestId: string;
  /** The handler's JSON-serializable result (undefined → null). Absent when error is set. */
  payload?: unknown;
  /** Set when the handler threw, timed out, or could not be loaded (FunctionError: Unhandled). */
  error?: InvokeError;
  /** Everything the invocation wrote to console / stdout / stderr, START/END/REPORT lines included. */
  logs: string;
  durationMs: number;
}

/**
 * Lambda's answer to an invocation beyond the function's reserved concurrency: HTTP 429
 * TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded. The
 * caller retries (the SDK does, event source mappings do, without counting an attempt).
 */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
  readonly reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
  constructor(
    readonly functionName: string,
    readonly reservedConcurrency: number,
  ) {
    super(`Rate Exceeded. (${functionName}: ${reservedConcurrency} reserved concurrent executions, all in use)`);
  }
}

export interface LambdaRuntime {
  /** Add or replace (redeploy) a function. Replacing retires its warm workers. */
  register(spec: FunctionSpec): void;
  unregister(name: string): void;
  get(nameOrArn: string): FunctionSpec | undefined;
  list(): FunctionSpec[];
  /**
   * Synchronous (RequestResponse) invocation. Rejects only for an unknown function, or with
   * a TooManyRequestsError when its reserved concurrency is in use.
   */
  invoke(nameOrArn: string, payload: unknown): Promise<InvokeResult>;
  /** Terminate every worker. */
  close(): Promise<void>;
}

export interface DynamoStreamSource {
  kind: 'dynamodb';
  /** Stream ARN as moto reports it (resolved from Fn::GetAtt Table.StreamArn). */
  eventSourceArn: string;
  tableName: string;
}

export interface SqsSource {
  kind: 'sqs';
  eventSourceArn: string;
  queueUrl: string;
}

export interface EventSourceMappingSpec {
  uuid: string;
  functionName: string;
  source: DynamoStreamSource | SqsSource;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** -1 = infinite (AWS default for streams). */
  maximumRetryAttempts: number;
  /** -1 = infinite. */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  /** ARN of the on-failure destination (SQS queue) for stream sources. */
  onFailureDestinationArn?: string;
  reportBatchItemFailures: boolean;
  /** Lambda filter criteria patterns (JSON strings), as in FilterCriteria.Filters[].Pattern. */
  filterPatterns: string[];
  enabled: boolean;
}

export interface ScheduleSpec {
  name: string;
  /** rate(1 minute) / rate(5 minutes) / rate(1 hour); cron(...) is rejected. */
  scheduleExpression: string;
  targetFunctionNames: string[];
  /** Optional constant input for the targets (Input property), parsed JSON. */
  input?: unknown;
}

export interface TtlSpec {
  tableName: string;
  attributeName: string;
}
