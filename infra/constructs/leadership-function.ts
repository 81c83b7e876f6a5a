import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { settingsEnvironment, type LeadershipSettings } from '../../protocol/settings.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HANDLERS_DIR = fileURLToPath(new URL('../../functions/handlers/', import.meta.url));

/**
 * ESM bundles have no `require`; a few CommonJS dependencies bundled into them
 * still call it (e.g. for Node built-ins), so it is recreated at the top of the bundle.
 */
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export interface LeadershipFunctionProps {
  /** Handler file under functions/handlers/, without extension (e.g. "heartbeat"); it exports `handler`. */
  readonly handlerFile: string;
  /** Shown in the console; say which trigger drives the function. */
  readonly description: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** POWERTOOLS_LOG_LEVEL (DEBUG, INFO, WARN, ERROR). */
  readonly logLevel: string;
  /** POWERTOOLS_SERVICE_NAME shared by every function of the system. */
  readonly serviceName: string;
  /** The domain's tunables: every function carries them (they grant nothing), so every Deps is complete. */
  readonly settings: LeadershipSettings;
  /** Days the function's own log group keeps its events. */
  readonly logRetentionDays: number;
  /** Keep the log group when the stack is deleted (RETAIN) or not (DESTROY). */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Concurrent executions set aside for this function alone, which are also its ceiling.
   * @default - none: the account's shared pool
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A handler of this project with its defaults: Node 22 runtime (20 is
 * deprecated on AWS) but bundled for node20/ES2022 so the same bundle runs on
 * the local Node 20 of the embedded cloud; bundled locally with esbuild (no
 * Docker here); ESM; the pinned AWS SDK bundled rather than the runtime's copy.
 * Grants and resource variables are added with the helpers in resource-access.ts.
 *
 * Each function has its own log group, made by the stack (not on first write by Lambda),
 * with a retention, and its own role, which may write to that group and nothing else.
 */
export class LeadershipFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: LeadershipFunctionProps) {
    // An explicit log group rather than the `logRetention` prop: that one sets the retention
    // through a custom-resource Lambda, one more function to run (and for the local cloud to
    // emulate) for what CloudFormation can declare. No name: CloudFormation picks a unique one,
    // so a retained group never blocks a re-created stack; LoggingConfig tells Lambda to use it.
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    // Instead of the role NodejsFunction would make, whose AWS managed policy
    // (AWSLambdaBasicExecutionRole) allows logs:CreateLogGroup/CreateLogStream/PutLogEvents
    // on every log group of the account (cdk-nag IAM4): this role starts empty and gets
    // write access to its own group below, then the grants of resource-access.ts.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.handlerFile} handler: its own log group, and the tables and queue its function-table entry uses.`,
    });
    super(scope, id, {
      entry: `${HANDLERS_DIR}${props.handlerFile}.ts`,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        ...settingsEnvironment(props.settings),
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node20',
        mainFields: ['module', 'main'],
        banner: CREATE_REQUIRE_BANNER,
        // Bundle everything, the SDK included: the versions pinned in package-lock.json are the ones tested.
        externalModules: [],
        minify: false,
        sourceMap: false,
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is deliberate (supported by Lambda into 2027): nodejs24.x, the newest, is a runtime change to make with its own tests, and nothing here can run them (the embedded cloud runs the bundles, built for node20, on Node 20).',
    });
    // CreateLogStream and PutLogEvents on this group's ARN (log-group:<name>:*, its streams).
    logGroup.grantWrite(role);
  }
}
