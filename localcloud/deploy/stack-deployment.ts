/**
 * One stack's deployment: validation of the whole template first (types,
 * intrinsics, references), then creation in dependency order, then outputs.
 * Template parameters are not read: nothing here can pass them, and a Ref to one
 * fails validation.
 */
import { isRecord } from '../shared/guards.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { StackArtifact } from './assembly.js';
import { DeployError, ResourceCreationError, TemplateError, UnsupportedResourceTypeError } from './errors.js';
import { topologicalOrder } from './graph.js';
import { evaluateCondition, resolveValue, scanIntrinsics, type ResolveScope } from './intrinsics.js';
import { PropertyReader } from './props.js';
import { isIgnoredType, provisionerFor } from './resources/index.js';
import { placeholderResource } from './resources/ignored.js';
import { describeResource, type DeployClients, type ProvisionedResource } from './resources/types.js';
import type { DeployedStack, DeployTarget } from './target.js';
import type { CfnTemplate } from './template.js';

const PARTITION = 'aws';

/** Shared by all stacks of one assembly: cross-stack references go through exports. */
export interface AssemblyContext {
  target: DeployTarget;
  clients: DeployClients;
  /** Export name → value, filled as stacks deploy (Fn::ImportValue reads it). */
  exports: Map<string, string>;
}

function outputText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(outputText).join(',');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

export class StackDeployment implements ResolveScope {
  private readonly log: Logger;
  private readonly provisioned = new Map<string, ProvisionedResource>();
  private readonly conditions = new Map<string, boolean>();
  /** Logical id → the logical ids it needs first; filled by validate(). */
  private readonly dependencies = new Map<string, Set<string>>();

  constructor(
    private readonly stack: StackArtifact,
    private readonly assembly: AssemblyContext,
  ) {
    this.log = createLogger(`deploy:${stack.stackName}`);
  }

  private get stackName(): string {
    return this.stack.stackName;
  }

  private get template(): CfnTemplate {
    return this.stack.template;
  }

  /** Throws before anything is created: unsupported types, unknown intrinsics, dangling references. */
  validate(): void {
    for (const [logicalId, resource] of Object.entries(this.template.Resources)) {
      const ignored = isIgnoredType(resource.Type);
      if (!provisionerFor(resource.Type) && !ignored) {
        throw new UnsupportedResourceTypeError(resource.Type, logicalId, this.stackName);
      }
      const at = `stack ${this.stackName}, Resources.${logicalId}.Properties`;
      // Skipped resources' properties are never resolved, so whatever they use cannot fail the deploy.
      const refs = ignored ? new Set<string>() : scanIntrinsics(resource.Properties, at);
      this.checkReferences(refs, at);
      for (const dep of resource.DependsOn) {
        if (!(dep in this.template.Resources)) {
          throw new TemplateError(`stack ${this.stackName}: ${logicalId} DependsOn unknown resource ${dep}`);
        }
      }
      const resourceIds = [...refs, ...resource.DependsOn].filter((id) => id in this.template.Resources);
      this.dependencies.set(logicalId, new Set(resourceIds));
    }
    for (const [name, output] of Object.entries(this.template.Outputs)) {
      const at = `stack ${this.stackName}, Outputs.${name}`;
      this.checkReferences(scanIntrinsics([output.Value, output.ExportName], at), at);
    }
    for (const [name, condition] of Object.entries(this.template.Conditions)) {
      scanIntrinsics(condition, `stack ${this.stackName}, Conditions.${name}`);
    }
  }

  private checkReferences(refs: Set<string>, at: string): void {
    for (const ref of refs) {
      const known = ref in this.template.Resources || this.pseudoParameter(ref) !== undefined;
      if (!known) throw new TemplateError(`${at} references ${ref}, which is neither a resource nor a supported pseudo parameter`);
    }
  }

  async deploy(): Promise<DeployedStack> {
    const order = topologicalOrder(
      Object.keys(this.template.Resources),
      (id) => this.dependencies.get(id) ?? [],
      `resources of stack ${this.stackName}`,
    );
    const resources: DeployedStack['resources'] = [];
    for (const logicalId of order) {
      const resource = this.template.Resources[logicalId];
      if (resource.Condition !== undefined && !this.condition(resource.Condition, `Resources.${logicalId}`)) {
        this.log.debug(`${logicalId} skipped: condition ${resource.Condition} is false`);
        continue;
      }
      const created = await this.provision(logicalId, resource.Type, resource.Properties);
      this.provisioned.set(logicalId, created);
      resources.push({ logicalId, type: resource.Type, physicalId: created.physicalId });
    }
    const outputs = this.resolveOutputs();
    this.log.debug(`deployed ${resources.length} resources, ${Object.keys(outputs).length} outputs`);
    return { stackName: this.stackName, outputs, resources };
  }

  private async provision(logicalId: string, type: string, properties: Record<string, unknown>) {
    const { target, clients } = this.assembly;
    const naming = { resourceType: type, logicalId, stackName: this.stackName };
    const provisioner = provisionerFor(type);
    if (!provisioner) {
      this.log.debug(`${describeResource(naming)}: control-plane only, skipped`);
      const env = { partition: PARTITION, region: target.region, accountId: target.accountId };
      return placeholderResource(type, this.stackName, logicalId, env);
    }
    const resolved = resolveValue(properties, this, `stack ${this.stackName}, Resources.${logicalId}.Properties`);
    const props = new PropertyReader(isRecord(resolved) ? resolved : {}, describeResource(naming));
    try {
      return await provisioner.provision({
        ...naming,
        props,
        target,
        clients,
        assets: this.stack.assets,
        partition: PARTITION,
        log: this.log,
      });
    } catch (err) {
      if (err instanceof DeployError) throw err;
      throw new ResourceCreationError(logicalId, type, this.stackName, err);
    }
  }

  private resolveOutputs(): Record<string, string> {
    const outputs: Record<string, string> = {};
    for (const [name, output] of Object.entries(this.template.Outputs)) {
      const at = `stack ${this.stackName}, Outputs.${name}`;
      const value = outputText(resolveValue(output.Value, this, at));
      outputs[name] = value;
      if (output.ExportName !== undefined) {
        this.assembly.exports.set(outputText(resolveValue(output.ExportName, this, `${at}.Export.Name`)), value);
      }
    }
    return outputs;
  }

  private condition(name: string, at: string): boolean {
    const cached = this.conditions.get(name);
    if (cached !== undefined) return cached;
    if (!(name in this.template.Conditions)) throw new TemplateError(`${at}: unknown condition ${name}`);
    const value = evaluateCondition(this.template.Conditions[name], this, `stack ${this.stackName}, Conditions.${name}`);
    this.conditions.set(name, value);
    return value;
  }
  // ResolveScope

  ref(name: string, at: string): unknown {
    const pseudo = this.pseudoParameter(name);
    if (pseudo !== undefined) return pseudo;
    const resource = this.provisioned.get(name);
    if (resource) return resource.physicalId;
    throw this.unavailable(name, at);
  }

  getAtt(logicalId: string, attribute: string, at: string): unknown {
    const resource = this.provisioned.get(logicalId);
    if (!resource) throw this.unavailable(logicalId, at);
    const value = resource.attributes[attribute];
    if (value === undefined) {
      const type = this.template.Resources[logicalId]?.Type;
      const available = Object.keys(resource.attributes).join(', ') || 'none';
      throw new TemplateError(
        `${at}: Fn::GetAtt ${logicalId}.${attribute} is not available locally for ${type} (available: ${available})`,
      );
    }
    return value;
  }


  importValue(exportName: string, at: string): unknown {
    const value = this.assembly.exports.get(exportName);
    if (value === undefined) {
      throw new TemplateError(`${at}: Fn::ImportValue ${exportName}: no stack deployed before this one exports it`);
    }
    return value;
  }

  private pseudoParameter(name: string): string | undefined {
    const { region, accountId } = this.assembly.target;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return accountId;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::Partition':
        return PARTITION;
      default:
        return undefined;
    }
  }

  private unavailable(name: string, at: string): TemplateError {
    const resource = this.template.Resources[name];
    if (resource?.Condition !== undefined) {
      return new TemplateError(`${at} references ${name}, which is not created (condition ${resource.Condition} is false)`);
    }
    return new TemplateError(`${at} references ${name}, which is not a resource or pseudo parameter`);
  }
}
