/**
 * One stack's deployment: validation of the whole template first (types, intrinsics,
 * references, parameters, dependency cycles), then creation or update in dependency
 * order, then outputs; on an update, the resources the new template no longer has (or
 * replaced under another physical id) are deleted last, as CloudFormation's cleanup
 * phase does. The local CloudFormation API runs one for each stack create or update that
 * `cdk deploy` sends.
 */
import { isRecord } from '../../shared/guards.js';
import { createLogger, type Logger } from '../../shared/log.js';
import type { AssetIndex } from './assembly.js';
import { assemblyAssets, isAssetSource, type AssetSource } from './asset-source.js';
import { DeployError, ResourceCreationError, TemplateError, UnsupportedResourceTypeError } from './errors.js';
import { topologicalOrder } from './graph.js';
import { evaluateCondition, NO_VALUE, resolveValue, scanIntrinsics, type ResolveScope } from './intrinsics.js';
import { PropertyReader } from './props.js';
import { isIgnoredType, provisionerFor } from './resources/index.js';
import { placeholderResource } from './resources/ignored.js';
import { describeResource, type DeployClients, type ProvisionedResource } from './resources/types.js';
import type { DeployedResource, DeployedStack, DeployTarget } from './target.js';
import type { CfnTemplate } from './template.js';

const PARTITION = 'aws';

/** Shared by all stacks of one assembly: cross-stack references go through exports. */
export interface AssemblyContext {
  target: DeployTarget;
  clients: DeployClients;
  /** Export name → value, filled as stacks deploy (Fn::ImportValue reads it). */
  exports: Map<string, string>;
}

/** What a deployment reads: a stack of a cloud assembly, or a template handed to the CloudFormation API. */
export interface StackSource {
  stackName: string;
  template: CfnTemplate;
  assets: AssetIndex | AssetSource;
  /** Values given for template parameters; the others take their Default. */
  parameters?: Record<string, string>;
  /** The stack's ARN, for `AWS::StackId` (the CloudFormation API has one; cdk.out does not). */
  stackId?: string;
}

/** A resource's progress, as CloudFormation's stack events report it. */
export interface ResourceEvent {
  logicalId: string;
  type: string;
  status: string;
  physicalId?: string;
  reason?: string;
}

export interface DeployOptions {
  /** The stack's resources before this deployment: present ones are updated, missing ones deleted afterwards. */
  previous?: DeployedResource[];
  onEvent?: (event: ResourceEvent) => void;
}

/** A failed deployment, with what it had provisioned by then (the rollback deletes or restores those). */
export class StackDeploymentError extends DeployError {
  constructor(
    readonly failure: DeployError,
    readonly logicalId: string | undefined,
    readonly provisioned: DeployedResource[],
  ) {
    super(failure.message, { cause: failure });
  }
}

function outputText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(outputText).join(',');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class StackDeployment implements ResolveScope {
  private readonly log: Logger;
  private readonly provisioned = new Map<string, ProvisionedResource>();
  private readonly conditions = new Map<string, boolean>();
  /** Logical id → the logical ids it needs first; filled by validate(). */
  private readonly dependencies = new Map<string, Set<string>>();
  private readonly assets: AssetSource;
  private readonly parameterValues = new Map<string, string>();
  private order: string[] = [];
  private validated = false;

  constructor(
    private readonly stack: StackSource,
    private readonly assembly: AssemblyContext,
  ) {
    this.log = createLogger(`deploy:${stack.stackName}`);
    this.assets = isAssetSource(stack.assets) ? stack.assets : assemblyAssets(stack.assets);
  }

  private get stackName(): string {
    return this.stack.stackName;
  }

  private get template(): CfnTemplate {
    return this.stack.template;
  }

  /**
   * Throws before anything is created: unsupported types, unknown intrinsics, dangling
   * references, parameters without a value, dependency cycles.
   */
  validate(): void {
    for (const [name, parameter] of Object.entries(this.template.Parameters)) {
      const value = this.stack.parameters?.[name] ?? parameter.Default;
      if (value === undefined) throw new TemplateError(`stack ${this.stackName}: Parameters: [${name}] must have values`);
      this.parameterValues.set(name, value);
    }
    for (const name of Object.keys(this.stack.parameters ?? {})) {
      if (!(name in this.template.Parameters)) {
        throw new TemplateError(`stack ${this.stackName}: Parameters: [${name}] do not exist in the template`);
      }
    }
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
      if (resource.Condition !== undefined && !(resource.Condition in this.template.Conditions)) {
        throw new TemplateError(`stack ${this.stackName}: ${logicalId} has unknown condition ${resource.Condition}`);
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
    this.order = topologicalOrder(
      Object.keys(this.template.Resources),
      (id) => this.dependencies.get(id) ?? [],
      `resources of stack ${this.stackName}`,
    );
    this.validated = true;
  }

  private checkReferences(refs: Set<string>, at: string): void {
    for (const ref of refs) {
      const known = ref in this.template.Resources || ref in this.template.Parameters || this.pseudoParameter(ref) !== undefined;
      if (!known) {
        throw new TemplateError(`${at} references ${ref}, which is neither a resource, a parameter nor a supported pseudo parameter`);
      }
    }
  }

  /**
   * Creates or updates every resource in dependency order, then deletes what the
   * previous deployment had and this one does not. Rejects with a StackDeploymentError
   * naming what was provisioned before the failure; cleaning up is the caller's choice.
   */
  async deploy(options: DeployOptions = {}): Promise<DeployedStack> {
    if (!this.validated) this.validate();
    const previous = new Map((options.previous ?? []).map((resource) => [resource.logicalId, resource]));
    const emit = options.onEvent ?? (() => undefined);
    const resources: DeployedResource[] = [];
    let current: string | undefined;
    try {
      for (const logicalId of this.order) {
        current = logicalId;
        const resource = this.template.Resources[logicalId];
        if (resource.Condition !== undefined && !this.condition(resource.Condition, `Resources.${logicalId}`)) {
          this.log.debug(`${logicalId} skipped: condition ${resource.Condition} is false`);
          continue;
        }
        const verb = previous.has(logicalId) ? 'UPDATE' : 'CREATE';
        emit({ logicalId, type: resource.Type, status: `${verb}_IN_PROGRESS`, physicalId: previous.get(logicalId)?.physicalId });
        const created = await this.provision(logicalId, resource.Type, resource.Properties);
        this.provisioned.set(logicalId, created);
        resources.push({
          logicalId,
          type: resource.Type,
          physicalId: created.physicalId,
          attributes: created.attributes,
          ...(resource.DeletionPolicy ? { deletionPolicy: resource.DeletionPolicy } : {}),
        });
        emit({ logicalId, type: resource.Type, status: `${verb}_COMPLETE`, physicalId: created.physicalId });
      }
      current = undefined;
      const { outputs, exportNames } = this.resolveOutputs();
      const kept = new Set(resources.map((r) => `${r.type} ${r.physicalId}`));
      const stale = [...previous.values()].filter((old) => {
        const now = this.provisioned.get(old.logicalId);
        // Replaced under a new physical id, or gone from the template; never a resource still in use.
        return (!now || now.physicalId !== old.physicalId) && !kept.has(`${old.type} ${old.physicalId}`);
      });
      await deleteResources(stale, { stackName: this.stackName, assembly: this.assembly, log: this.log, onEvent: emit });
      this.log.debug(`deployed ${resources.length} resources, ${Object.keys(outputs).length} outputs`);
      return { stackName: this.stackName, outputs, resources, exportNames };
    } catch (err) {
      const failure = err instanceof DeployError ? err : new DeployError(reasonOf(err), { cause: err });
      if (current !== undefined) {
        const type = this.template.Resources[current].Type;
        const verb = previous.has(current) ? 'UPDATE' : 'CREATE';
        emit({ logicalId: current, type, status: `${verb}_FAILED`, reason: failure.message });
      }
      throw new StackDeploymentError(failure, current, resources);
    }
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
        assets: this.assets,
        partition: PARTITION,
        log: this.log,
      });
    } catch (err) {
      if (err instanceof DeployError) throw err;
      throw new ResourceCreationError(logicalId, type, this.stackName, err);
    }
  }

  private resolveOutputs(): { outputs: Record<string, string>; exportNames: Record<string, string> } {
    const outputs: Record<string, string> = {};
    const exportNames: Record<string, string> = {};
    for (const [name, output] of Object.entries(this.template.Outputs)) {
      const at = `stack ${this.stackName}, Outputs.${name}`;
      const value = outputText(resolveValue(output.Value, this, at));
      outputs[name] = value;
      if (output.ExportName !== undefined) {
        const exportName = outputText(resolveValue(output.ExportName, this, `${at}.Export.Name`));
        // Export names are unique across the account's stacks; the map holds the other stacks' (and earlier assembly stacks').
        if (this.assembly.exports.has(exportName)) {
          throw new TemplateError(`${at}: Export with name ${exportName} is already exported by another stack`);
        }
        this.assembly.exports.set(exportName, value);
        exportNames[name] = exportName;
      }
    }
    return { outputs, exportNames };
  }

  condition(name: string, at: string): boolean {
    const cached = this.conditions.get(name);
    if (cached !== undefined) return cached;
    if (!(name in this.template.Conditions)) throw new TemplateError(`${at}: unknown condition ${name}`);
    const value = evaluateCondition(this.template.Conditions[name], this, `stack ${this.stackName}, Conditions.${name}`);
    this.conditions.set(name, value);
    return value;
  }
  // ResolveScope

  ref(name: string, at: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const pseudo = this.pseudoParameter(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters[name];
    if (parameter) {
      const value = this.parameterValues.get(name) ?? this.stack.parameters?.[name] ?? parameter.Default ?? '';
      return parameter.Type.startsWith('List<') || parameter.Type === 'CommaDelimitedList' ? value.split(',') : value;
    }
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

  private pseudoParameter(name: string): string | typeof NO_VALUE | undefined {
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
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::StackId':
        return this.stack.stackId;
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

export interface DeleteScope {
  stackName: string;
  assembly: Pick<AssemblyContext, 'target' | 'clients'>;
  log?: Logger;
  onEvent?: (event: ResourceEvent) => void;
}

/**
 * Deletes resources last-created first (dependents before what they depend on). A
 * `Retain` resource is left in place, as CloudFormation does. Every resource is tried;
 * the failures are thrown together at the end.
 */
export async function deleteResources(resources: readonly DeployedResource[], scope: DeleteScope): Promise<void> {
  const log = scope.log ?? createLogger(`deploy:${scope.stackName}`);
  const emit = scope.onEvent ?? (() => undefined);
  const failures: string[] = [];
  for (const resource of [...resources].reverse()) {
    const { logicalId, type, physicalId } = resource;
    emit({ logicalId, type, status: 'DELETE_IN_PROGRESS', physicalId });
    if (resource.deletionPolicy === 'Retain') {
      emit({ logicalId, type, status: 'DELETE_SKIPPED', physicalId });
      continue;
    }
    try {
      await provisionerFor(type)?.delete({
        stackName: scope.stackName,
        logicalId,
        resourceType: type,
        physicalId,
        attributes: resource.attributes,
        target: scope.assembly.target,
        clients: scope.assembly.clients,
        log,
      });
      emit({ logicalId, type, status: 'DELETE_COMPLETE', physicalId });
    } catch (err) {
      const reason = reasonOf(err);
      failures.push(`${logicalId}: ${reason}`);
      emit({ logicalId, type, status: 'DELETE_FAILED', physicalId, reason });
    }
  }
  if (failures.length > 0) throw new DeployError(`stack ${scope.stackName}: could not delete ${failures.join('; ')}`);
}
