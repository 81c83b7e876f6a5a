import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { ENV } from '../../functions/config.js';
import type { LeadershipSettings } from '../../functions/ports/index.js';

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
}

/**
 * A handler of this project with its defaults: Node 22 runtime (20 is
 * deprecated on AWS) but bundled for node20/ES2022 so the same bundle runs on
 * the local Node 20 of the embedded cloud; bundled locally with esbuild (no
 * Docker here); ESM; the pinned AWS SDK bundled rather than the runtime's copy.
 * Grants and resource variables are added with the helpers in resource-access.ts.
 */
export class LeadershipFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: LeadershipFunctionProps) {
    super(scope, id, {
      entry: `${HANDLERS_DIR}${props.handlerFile}.ts`,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        [ENV.sessionTimeoutMs]: String(props.settings.sessionTimeoutMs),
        [ENV.produceAckTimeoutMs]: String(props.settings.produceAckTimeoutMs),
        [ENV.produceAckPollMs]: String(props.settings.produceAckPollMs),
        [ENV.replicaLagMaxMs]: String(props.settings.replicaLagMaxMs),
        [ENV.autoLeaderRebalanceEnable]: String(props.settings.autoLeaderRebalanceEnable),
        [ENV.replicateOnProduce]: String(props.settings.replicateOnProduce),
        [ENV.leaderImbalancePerBrokerPercentage]: String(props.settings.leaderImbalancePerBrokerPercentage),
        [ENV.leaderImbalanceCheckIntervalSeconds]: String(props.settings.leaderImbalanceCheckIntervalSeconds),
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
  }
}
