/**
 * AWS::Lambda::Function → LambdaRuntime.register (a redeploy replaces the function).
 * LoggingConfig.LogGroup sends its logs to that group; ReservedConcurrentExecutions
 * throttles invocations beyond it (TooManyRequestsException), as Lambda does.
 */
import { resolveCodeDir } from '../function-code.js';
import { TemplateError } from '../errors.js';
import { physicalName } from '../physical-name.js';
import type { FunctionSpec } from '../../../types.js';
import { describeResource, type ProvisionContext, type ProvisionedResource, type ResourceProvisioner } from './types.js';

const FUNCTION_NAME_MAX = 64;
/** Lambda's defaults when the template leaves them out. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

export const lambdaFunction: ResourceProvisioner = {
  provision: registerFunction,
  delete(ctx) {
    ctx.target.runtime.unregister(ctx.physicalId);
    return Promise.resolve();
  },
};

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

/** ReservedConcurrentExecutions: a whole number of at least 0 (0 throttles every invocation, as on AWS). */
function reservedConcurrency(ctx: ProvisionContext, where: string): number | undefined {
  const value = ctx.props.optNumber('ReservedConcurrentExecutions');
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new TemplateError(`${where}: ReservedConcurrentExecutions must be a whole number of at least 0, got ${value}`);
  }
  return value;
}

async function registerFunction(ctx: ProvisionContext): Promise<ProvisionedResource> {
  const { props, target } = ctx;
  const where = describeResource(ctx);
  if (props.optString('PackageType') === 'Image') {
    throw new TemplateError(`${where}: container image functions are not supported locally`);
  }
  const code = props.optObject('Code');
  if (!code) throw new TemplateError(`${where}: property Code is required`);
  const runtime = props.string('Runtime');
  const name = props.optString('FunctionName') ?? physicalName(ctx.stackName, ctx.logicalId, FUNCTION_NAME_MAX);
  const spec: FunctionSpec = {
    name,
    logicalId: ctx.logicalId,
    arn: `arn:${ctx.partition}:lambda:${target.region}:${target.accountId}:function:${name}`,
    codeDir: await resolveCodeDir(code, runtime, ctx.assets, where),
    handler: props.string('Handler'),
    runtime,
    environment: props.optObject('Environment')?.stringMap('Variables') ?? {},
    timeoutSeconds: props.optNumber('Timeout') ?? DEFAULT_TIMEOUT_SECONDS,
    memoryMb: props.optNumber('MemorySize') ?? DEFAULT_MEMORY_MB,
    ...optional('logGroup', props.optObject('LoggingConfig')?.optString('LogGroup')),
    ...optional('reservedConcurrency', reservedConcurrency(ctx, where)),
  };
  target.runtime.register(spec);
  return { physicalId: name, attributes: { Arn: spec.arn } };
}
