/** The subset of the CloudFormation template format the deployer reads. */
import { isRecord } from '../../shared/guards.js';
import { AssemblyError, TemplateLimitError } from './errors.js';

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn: string[];
  Condition?: string;
  /** `Retain` keeps the resource when the stack deletes or replaces it. */
  DeletionPolicy?: string;
}

export interface CfnParameter {
  Type: string;
  Default?: string;
}

export interface CfnOutput {
  Value: unknown;
  ExportName?: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, CfnOutput>;
  Conditions: Record<string, unknown>;
  Parameters: Record<string, CfnParameter>;
}

function recordAt(parent: Record<string, unknown>, key: string, file: string): Record<string, unknown> {
  const value = parent[key];
  if (value === undefined) return {};
  if (!isRecord(value)) throw new AssemblyError(`${file}: "${key}" must be an object`);
  return value;
}

function parseResource(logicalId: string, raw: unknown, file: string): CfnResource {
  if (!isRecord(raw) || typeof raw.Type !== 'string') {
    throw new AssemblyError(`${file}: resource ${logicalId} has no Type`);
  }
  const dependsOn = raw.DependsOn === undefined ? [] : [raw.DependsOn].flat();
  if (!dependsOn.every((d): d is string => typeof d === 'string')) {
    throw new AssemblyError(`${file}: resource ${logicalId} has a non-string DependsOn`);
  }
  if (raw.Condition !== undefined && typeof raw.Condition !== 'string') {
    throw new AssemblyError(`${file}: resource ${logicalId} has a non-string Condition`);
  }
  return {
    Type: raw.Type,
    Properties: recordAt(raw, 'Properties', file),
    DependsOn: dependsOn,
    Condition: raw.Condition,
    DeletionPolicy: typeof raw.DeletionPolicy === 'string' ? raw.DeletionPolicy : undefined,
  };
}

/** CloudFormation's quota of resources per stack (not adjustable). */
export const MAX_RESOURCES = 500;

export function parseTemplate(raw: unknown, file: string): CfnTemplate {
  if (!isRecord(raw)) throw new AssemblyError(`${file}: a template must be a JSON object`);
  const rawResources = recordAt(raw, 'Resources', file);
  // Counted before anything else is read: what a stack has to process grows with it.
  const count = Object.keys(rawResources).length;
  if (count > MAX_RESOURCES) {
    throw new TemplateLimitError(`${file}: Number of resources, ${count}, is greater than maximum allowed, ${MAX_RESOURCES}`);
  }
  const resources: Record<string, CfnResource> = {};
  for (const [logicalId, resource] of Object.entries(rawResources)) {
    resources[logicalId] = parseResource(logicalId, resource, file);
  }
  const outputs: Record<string, CfnOutput> = {};
  for (const [name, output] of Object.entries(recordAt(raw, 'Outputs', file))) {
    if (!isRecord(output) || !('Value' in output)) throw new AssemblyError(`${file}: output ${name} has no Value`);
    const exportName = isRecord(output.Export) ? output.Export.Name : undefined;
    outputs[name] = { Value: output.Value, ExportName: exportName };
  }
  const parameters: Record<string, CfnParameter> = {};
  for (const [name, parameter] of Object.entries(recordAt(raw, 'Parameters', file))) {
    if (!isRecord(parameter) || typeof parameter.Type !== 'string') throw new AssemblyError(`${file}: parameter ${name} has no Type`);
    const fallback = parameter.Default;
    const scalar = typeof fallback === 'string' || typeof fallback === 'number' || typeof fallback === 'boolean';
    const text = Array.isArray(fallback) ? fallback.join(',') : scalar ? String(fallback) : fallback === undefined ? undefined : JSON.stringify(fallback);
    parameters[name] = { Type: parameter.Type, ...(text === undefined ? {} : { Default: text }) };
  }
  // `Rules` (CDK's CheckBootstrapVersion) are not evaluated: the CDK CLI checks the bootstrap version itself first.
  return { Resources: resources, Outputs: outputs, Conditions: recordAt(raw, 'Conditions', file), Parameters: parameters };
}
