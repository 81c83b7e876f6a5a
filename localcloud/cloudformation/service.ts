/**
 * CloudFormation of the embedded cloud: stacks, change sets and stack events, deployed
 * through the same StackDeployment (and resource provisioners) as a cdk.out. Operations
 * run in the background as on AWS (the caller polls DescribeStacks / DescribeStackEvents),
 * one at a time for the whole cloud: they share the Lambda runtime and the exports.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readAssembly, type AssetIndex, type StackArtifact } from './deploy/assembly.js';
import { assemblyAssets } from './deploy/asset-source.js';
import { processCodeCache, type CodeCache } from './deploy/code-cache.js';
import { AssemblyError, DeployError, TemplateLimitError } from './deploy/errors.js';
import { scanIntrinsics } from './deploy/intrinsics.js';
import {
  deleteResources,
  StackDeployment,
  StackDeploymentError,
  type ResourceEvent,
} from './deploy/stack-deployment.js';
import type { DeployClients } from './deploy/resources/types.js';
import { readSsmParameter } from './deploy/resources/ssm-parameter.js';
import type { DeployedResource, DeployedStack, DeployTarget } from './deploy/target.js';
import { parseTemplate, type CfnTemplate } from './deploy/template.js';
import { createLogger } from '../shared/log.js';
import { QueryError, validationError } from './query.js';
import { getObject, parseTemplateUrl, s3AssetSource } from './s3-objects.js';
import { parseTemplateText } from './template-text.js';

export interface StackEvent {
  EventId: string;
  StackId: string;
  StackName: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceType: string;
  Timestamp: Date;
  ResourceStatus: string;
  ResourceStatusReason?: string;
}

interface ResourceState {
  type: string;
  physicalId?: string;
  status: string;
  reason?: string;
  timestamp: Date;
}

interface TemplateVersion {
  body: string;
  template: CfnTemplate;
  description?: string;
  /** Given values, and the Defaults of the rest: what DescribeStacks lists. */
  parameters: Record<string, string>;
  /** Output descriptions and export names, by output key. */
  outputInfo: Record<string, { description?: string; exportName?: string }>;
  /** Where the code assets are: a cloud assembly's staged files, else the S3 bucket the template names. */
  assets?: AssetIndex;
}

export interface Stack {
  stackId: string;
  stackName: string;
  status: string;
  statusReason?: string;
  creationTime: Date;
  lastUpdatedTime?: Date;
  deletionTime?: Date;
  /** The template deployed last (undefined while a new stack waits in REVIEW_IN_PROGRESS). */
  current?: TemplateVersion;
  outputs: Record<string, string>;
  exports: Map<string, string>;
  resources: DeployedResource[];
  resourceStates: Map<string, ResourceState>;
  /** Newest first, as DescribeStackEvents returns them. */
  events: StackEvent[];
  changeSets: Map<string, ChangeSet>;
  capabilities: string[];
  tags: Array<{ Key: string; Value: string }>;
  terminationProtection: boolean;
}

export interface ResourceChange {
  Action: 'Add' | 'Modify' | 'Remove';
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceType: string;
  Replacement?: string;
}

export interface ChangeSet {
  id: string;
  name: string;
  stack: Stack;
  type: 'CREATE' | 'UPDATE';
  status: string;
  executionStatus: string;
  statusReason?: string;
  creationTime: Date;
  description?: string;
  version: TemplateVersion;
  changes: ResourceChange[];
}

export interface TemplateInput {
  templateBody?: string;
  templateUrl?: string;
  usePreviousTemplate?: boolean;
  parameters: Array<Record<string, string>>;
}

export interface CloudFormationOptions {
  target: DeployTarget;
  clients: DeployClients;
  /** Where function code is staged; the cloud's own, removed when it stops. Default: the process's. */
  codeCache?: CodeCache;
}

const TERMINAL = /(_COMPLETE|_FAILED)$/;

/**
 * CloudFormation's quotas on a template's size: a TemplateBody of at most 51,200 (the API
 * checks the parameter's length, in characters, as the CDK CLI does before choosing
 * between TemplateBody and an upload), and an S3 object of at most 1 MB.
 */
const MAX_TEMPLATE_BODY_CHARS = 51_200;
const MAX_TEMPLATE_OBJECT_BYTES = 1_000_000;
const templateObjectTooLarge = (): string => `Template may not exceed ${MAX_TEMPLATE_OBJECT_BYTES} bytes in size.`;

/** Longer than the TemplateBody limit in code points (a surrogate pair is one; the UTF-16 length is never less). */
function bodyTooLong(body: string): boolean {
  if (body.length <= MAX_TEMPLATE_BODY_CHARS) return false;
  const surrogatePairs = body.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0;
  return body.length - surrogatePairs > MAX_TEMPLATE_BODY_CHARS;
}

export class CloudFormationService {
  private readonly log = createLogger('cloudformation');
  /** Live stacks by name; deleted ones stay findable by id (DescribeStacks of an ARN). */
  private readonly byName = new Map<string, Stack>();
  private readonly byId = new Map<string, Stack>();
  /** Operations run one after another: they share the runtime, the tables and the exports. */
  private queue: Promise<void> = Promise.resolve();
  /** Event timestamps strictly increase: clients order events by them (the CDK CLI's progress view does). */
  private lastEventAt = 0;

  constructor(private readonly options: CloudFormationOptions) {}

  private get codeCache(): CodeCache {
    return this.options.codeCache ?? processCodeCache();
  }

  /** Resolves once every operation started so far has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  // Lookups

  find(nameOrId: string): Stack | undefined {
    return this.byName.get(nameOrId) ?? this.byId.get(nameOrId);
  }

  get(nameOrId: string): Stack {
    const stack = this.find(nameOrId);
    if (!stack) throw validationError(`Stack with id ${nameOrId} does not exist`);
    return stack;
  }

  liveStacks(): Stack[] {
    return [...this.byName.values()];
  }

  allStacks(): Stack[] {
    return [...this.byId.values()];
  }

  changeSet(nameOrArn: string, stackName: string | undefined): ChangeSet {
    if (nameOrArn.startsWith('arn:')) {
      for (const stack of this.byId.values()) {
        for (const changeSet of stack.changeSets.values()) if (changeSet.id === nameOrArn) return changeSet;
      }
    } else {
      if (stackName === undefined) throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.');
      const found = this.find(stackName)?.changeSets.get(nameOrArn);
      if (found) return found;
    }
    throw new QueryError('ChangeSetNotFound', `ChangeSet [${nameOrArn}] does not exist`, 404);
  }

  /** Every export of every live stack (what Fn::ImportValue sees), minus the given stack's own. */
  private otherExports(except?: Stack): Map<string, string> {
    const exports = new Map<string, string>();
    for (const stack of this.byName.values()) {
      if (stack !== except) for (const [name, value] of stack.exports) exports.set(name, value);
    }
    return exports;
  }

  // Templates

  /** Reads, parses and checks the parameters of a template; nothing is recorded yet. */
  async loadTemplate(input: TemplateInput, previous: Stack | undefined): Promise<TemplateVersion> {
    let body: string;
    if (input.usePreviousTemplate) {
      if (!previous?.current) throw validationError('UsePreviousTemplate requires a stack with a template');
      body = previous.current.body;
    } else if (input.templateBody !== undefined) {
      if (bodyTooLong(input.templateBody)) {
        // AWS quotes the whole body in this message; 50 KB of it would help nobody.
        throw validationError(
          `1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TEMPLATE_BODY_CHARS}`,
        );
      }
      body = input.templateBody;
    } else if (input.templateUrl !== undefined) {
      const { target } = this.options;
      const location = parseTemplateUrl(input.templateUrl);
      const object = await getObject(target.awsEndpoint, target.region, location);
      if (object === undefined) throw validationError(`TemplateURL ${input.templateUrl}: no such object (s3://${location.bucket}/${location.key})`);
      if (object.length > MAX_TEMPLATE_OBJECT_BYTES) throw validationError(templateObjectTooLarge());
      body = object.toString('utf8');
    } else {
      throw validationError('Either Template URL or Template Body must be specified.');
    }
    let raw: unknown;
    try {
      raw = parseTemplateText(body);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw validationError(`Template format error: the template is neither JSON nor YAML: ${reason}`);
    }
    let template: CfnTemplate;
    try {
      template = parseTemplate(raw, 'template');
    } catch (err) {
      if (err instanceof AssemblyError) throw validationError(`Template format error: ${err.message.replace(/^template: /, '')}`);
      throw err;
    }
    const parameters = this.parameterValues(template, input.parameters, previous);
    const outputInfo: TemplateVersion['outputInfo'] = {};
    const rawOutputs = (raw as { Outputs?: Record<string, { Description?: unknown }> }).Outputs ?? {};
    for (const [key, output] of Object.entries(rawOutputs)) {
      outputInfo[key] = { description: typeof output.Description === 'string' ? output.Description : undefined };
    }
    const description = (raw as { Description?: unknown }).Description;
    return { body, template, parameters, outputInfo, description: typeof description === 'string' ? description : undefined };
  }

  /**
   * Given values, previous values (UsePreviousValue) and Defaults; a parameter with none
   * fails the request. SSM-typed ones are looked up at deploy time (resolvedParameters).
   */
  private parameterValues(
    template: CfnTemplate,
    given: Array<Record<string, string>>,
    previous: Stack | undefined,
  ): Record<string, string> {
    const values: Record<string, string> = {};
    for (const entry of given) {
      const key = entry.ParameterKey;
      if (!key) throw validationError('Parameters: every member needs a ParameterKey');
      if (!(key in template.Parameters)) throw validationError(`Parameters: [${key}] do not exist in the template`);
      if (entry.UsePreviousValue === 'true') {
        const old = previous?.current?.parameters[key];
        if (old === undefined) throw validationError(`Parameters: [${key}] has no previous value to use`);
        values[key] = old;
      } else if (entry.ParameterValue !== undefined) {
        values[key] = entry.ParameterValue;
      }
    }
    const missing: string[] = [];
    for (const [name, parameter] of Object.entries(template.Parameters)) {
      const value = values[name] ?? parameter.Default;
      if (value === undefined) missing.push(name);
      else values[name] = value;
    }
    if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`);
    return values;
  }

  /** What the template of an SSM-typed parameter stands for: the stored value. */
  private async resolvedParameters(version: TemplateVersion): Promise<Record<string, string>> {
    const { target } = this.options;
    const resolved = { ...version.parameters };
    const used = usedNames(version.template);
    for (const [name, parameter] of Object.entries(version.template.Parameters)) {
      // Only a value the template uses is fetched: CDK's BootstrapVersion feeds only its Rules, which are not evaluated here.
      if (!parameter.Type.startsWith('AWS::SSM::Parameter::Value<') || !used.has(name)) continue;
      const value = await readSsmParameter(target.awsEndpoint, target.region, resolved[name]);
      if (value === undefined) {
        throw new DeployError(`Unable to fetch parameters [${resolved[name]}] from parameter store for this account.`);
      }
      resolved[name] = value;
    }
    return resolved;
  }

  // Change sets

  createChangeSet(
    stackName: string,
    name: string,
    type: string,
    version: TemplateVersion,
    extras: { description?: string; capabilities: string[]; tags: Array<{ Key: string; Value: string }> },
  ): ChangeSet {
    const existing = this.byName.get(stackName);
    if (type === 'CREATE' && existing && existing.status !== 'REVIEW_IN_PROGRESS') {
      throw new QueryError('AlreadyExistsException', `Stack [${stackName}] already exists and cannot be created again with the changeSet [${name}].`);
    }
    if (type === 'UPDATE' && (!existing || existing.status === 'REVIEW_IN_PROGRESS')) {
      throw validationError(`Stack [${stackName}] does not exist`);
    }
    if (type !== 'CREATE' && type !== 'UPDATE') throw validationError(`ChangeSetType ${type} is not supported locally (CREATE or UPDATE)`);
    if (existing?.changeSets.has(name)) throw new QueryError('AlreadyExistsException', `ChangeSet ${name} already exists`);
    const stack = existing ?? this.newStack(stackName, extras);
    if (!existing) this.stackEvent(stack, 'REVIEW_IN_PROGRESS', 'User Initiated');
    if (stack.status !== 'REVIEW_IN_PROGRESS') this.assertIdle(stack);
    stack.capabilities = extras.capabilities;
    if (extras.tags.length > 0) stack.tags = extras.tags;
    const changes = diff(stack, version.template);
    const noChanges = type === 'UPDATE' && changes.length === 0 && sameVersion(stack.current, version);
    const changeSet: ChangeSet = {
      id: `arn:aws:cloudformation:${this.options.target.region}:${this.options.target.accountId}:changeSet/${name}/${randomUUID()}`,
      name,
      stack,
      type,
      status: noChanges ? 'FAILED' : 'CREATE_COMPLETE',
      executionStatus: noChanges ? 'UNAVAILABLE' : 'AVAILABLE',
      ...(noChanges
        ? { statusReason: "The submitted information didn't contain changes. Submit different information to create a change set." }
        : {}),
      creationTime: new Date(),
      description: extras.description,
      version,
      changes,
    };
    stack.changeSets.set(name, changeSet);
    return changeSet;
  }

  deleteChangeSet(changeSet: ChangeSet): void {
    if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
      throw new QueryError('InvalidChangeSetStatus', `ChangeSet [${changeSet.id}] cannot be deleted while it executes`);
    }
    changeSet.stack.changeSets.delete(changeSet.name);
    // A stack that only ever had change sets goes with its last one, as on AWS.
    const { stack } = changeSet;
    if (stack.status === 'REVIEW_IN_PROGRESS' && stack.changeSets.size === 0) this.forget(stack);
  }

  executeChangeSet(changeSet: ChangeSet): void {
    if (changeSet.executionStatus !== 'AVAILABLE') {
      throw new QueryError(
        'InvalidChangeSetStatus',
        `ChangeSet [${changeSet.id}] cannot be executed in its current status of [${changeSet.status}] and execution status [${changeSet.executionStatus}]`,
      );
    }
    const { stack } = changeSet;
    this.assertIdle(stack);
    changeSet.executionStatus = 'EXECUTE_IN_PROGRESS';
    // Executing one change set makes the stack's others stale, as on AWS.
    for (const other of stack.changeSets.values()) if (other !== changeSet) other.executionStatus = 'OBSOLETE';
    this.startDeploy(stack, changeSet.version, changeSet.type, (ok) => {
      changeSet.executionStatus = ok ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
      stack.changeSets.clear();
    });
  }

  // Direct stack operations

  createStack(
    stackName: string,
    version: TemplateVersion,
    extras: { capabilities: string[]; tags: Array<{ Key: string; Value: string }> },
  ): Stack {
    if (this.byName.has(stackName)) throw new QueryError('AlreadyExistsException', `Stack [${stackName}] already exists`);
    const stack = this.newStack(stackName, extras);
    this.startDeploy(stack, version, 'CREATE');
    return stack;
  }

  updateStack(stack: Stack, version: TemplateVersion): void {
    this.assertIdle(stack);
    if (stack.status === 'REVIEW_IN_PROGRESS' || /^(ROLLBACK_|CREATE_FAILED|DELETE_)/.test(stack.status)) {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    }
    if (diff(stack, version.template).length === 0 && sameVersion(stack.current, version)) {
      throw validationError('No updates are to be performed.');
    }
    this.startDeploy(stack, version, 'UPDATE');
  }

  deleteStack(stack: Stack): void {
    if (stack.status === 'DELETE_COMPLETE' || stack.status === 'DELETE_IN_PROGRESS') return;
    this.assertIdle(stack);
    if (stack.terminationProtection) {
      throw validationError(`Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`);
    }
    this.setStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    this.enqueue(async () => {
      try {
        await deleteResources(stack.resources, this.deleteScope(stack));
        stack.resources = [];
        stack.exports.clear();
        stack.deletionTime = new Date();
        this.setStatus(stack, 'DELETE_COMPLETE');
        this.byName.delete(stack.stackName);
      } catch (err) {
        const remaining = new Set([...stack.resourceStates].filter(([, s]) => s.status === 'DELETE_FAILED').map(([id]) => id));
        stack.resources = stack.resources.filter((r) => remaining.has(r.logicalId));
        this.setStatus(stack, 'DELETE_FAILED', err instanceof Error ? err.message : String(err));
      }
    });
  }

  setTerminationProtection(stack: Stack, enabled: boolean): void {
    stack.terminationProtection = enabled;
  }

  /**
   * A cloud assembly's stacks, dependencies first, deployed as CloudFormation stacks: the
   * ones `cdk deploy` against the edge then updates, and `cdk destroy` deletes. Every
   * template is read (and found well-formed) before the first stack deploys.
   */
  async deployAssembly(assemblyDir: string): Promise<DeployedStack[]> {
    const stacks = readAssembly(assemblyDir).map((artifact) => ({ artifact, body: readFileSync(artifact.templateFile, 'utf8') }));
    const deployed: DeployedStack[] = [];
    for (const { artifact, body } of stacks) deployed.push(await this.deployArtifact(artifact, body));
    return deployed;
  }

  /**
   * Deploys a stack of a cloud assembly (`npm start`, LocalCloud.deploy) as a CloudFormation
   * stack, code from the assembly's staged assets: the same stack a later `cdk deploy`
   * updates and `cdk destroy` deletes. Resolves once it has settled; rejects with the
   * status reason if it rolled back. A stack that failed to create is deleted and created anew.
   */
  async deployArtifact(artifact: StackArtifact, templateBody: string): Promise<DeployedStack> {
    // `cdk deploy` sends a template this large through S3 (TemplateURL), where the 1 MB limit applies.
    if (Buffer.byteLength(templateBody) > MAX_TEMPLATE_OBJECT_BYTES) {
      throw new TemplateLimitError(`${artifact.templateFile}: ${templateObjectTooLarge()}`);
    }
    const existing = this.byName.get(artifact.stackName);
    const live = existing && existing.status !== 'REVIEW_IN_PROGRESS' && existing.status !== 'ROLLBACK_COMPLETE' ? existing : undefined;
    if (existing && !live) {
      this.deleteStack(existing);
      await this.idle();
    }
    const parameters = this.parameterValues(artifact.template, [], live);
    const version: TemplateVersion = { body: templateBody, template: artifact.template, parameters, outputInfo: {}, assets: artifact.assets };
    const stack = live ?? this.newStack(artifact.stackName, { capabilities: [], tags: [] });
    // Always deployed, even unchanged: the staged code on disk may have changed under the same asset hash (LocalCloud.deploy's promise).
    this.startDeploy(stack, version, live ? 'UPDATE' : 'CREATE');
    await this.idle();
    if (!/^(CREATE|UPDATE)_COMPLETE$/.test(stack.status)) {
      throw new DeployError(`stack ${stack.stackName}: ${stack.status}: ${stack.statusReason ?? 'no reason given'}`);
    }
    return { stackName: stack.stackName, outputs: { ...stack.outputs }, resources: [...stack.resources] };
  }

  // Internals

  private newStack(stackName: string, extras: { capabilities: string[]; tags: Array<{ Key: string; Value: string }> }): Stack {
    if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
      throw validationError(
        `1 validation error detected: Value '${stackName}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      );
    }
    const { region, accountId } = this.options.target;
    const stack: Stack = {
      stackId: `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${randomUUID()}`,
      stackName,
      status: 'REVIEW_IN_PROGRESS',
      creationTime: new Date(),
      outputs: {},
      exports: new Map(),
      resources: [],
      resourceStates: new Map(),
      events: [],
      changeSets: new Map(),
      capabilities: extras.capabilities,
      tags: extras.tags,
      terminationProtection: false,
    };
    this.byName.set(stackName, stack);
    this.byId.set(stack.stackId, stack);
    return stack;
  }

  private forget(stack: Stack): void {
    this.byName.delete(stack.stackName);
    this.byId.delete(stack.stackId);
  }

  private assertIdle(stack: Stack): void {
    if (stack.status !== 'REVIEW_IN_PROGRESS' && !TERMINAL.test(stack.status)) {
      throw validationError(`Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`);
    }
  }

  private enqueue(operation: () => Promise<void>): void {
    this.queue = this.queue.then(operation).catch((err: unknown) => this.log.error(`operation failed unexpectedly: ${String(err)}`));
  }

  private deleteScope(stack: Stack) {
    return {
      stackName: stack.stackName,
      assembly: this.options,
      onEvent: (event: ResourceEvent) => this.resourceEvent(stack, event),
    };
  }

  /**
   * Create or update in the background. A failure rolls back: a new stack's resources are
   * deleted (ROLLBACK_COMPLETE); an update redeploys the previous template and deletes
   * what the failed attempt added (UPDATE_ROLLBACK_COMPLETE).
   */
  private startDeploy(stack: Stack, version: TemplateVersion, type: 'CREATE' | 'UPDATE', done?: (ok: boolean) => void): void {
    const verb = type === 'CREATE' ? 'CREATE' : 'UPDATE';
    this.setStatus(stack, `${verb}_IN_PROGRESS`, 'User Initiated');
    if (type === 'UPDATE') stack.lastUpdatedTime = new Date();
    this.enqueue(async () => {
      const previous = stack.resources;
      const previousVersion = stack.current;
      try {
        await this.deployVersion(stack, version, previous, () => {
          if (verb === 'UPDATE') this.setStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
        });
        this.setStatus(stack, `${verb}_COMPLETE`);
        done?.(true);
      } catch (err) {
        const failure = err instanceof StackDeploymentError ? err : undefined;
        const reason = err instanceof Error ? err.message : String(err);
        const statusReason = failure?.logicalId
          ? `The following resource(s) failed to ${verb.toLowerCase()}: [${failure.logicalId}]. ${reason}`
          : reason;
        const attempted = failure?.provisioned ?? [];
        if (verb === 'CREATE') {
          this.setStatus(stack, 'ROLLBACK_IN_PROGRESS', statusReason);
          await deleteResources(attempted, this.deleteScope(stack)).catch(() => undefined);
          stack.resources = [];
          this.setStatus(stack, 'ROLLBACK_COMPLETE', statusReason);
        } else {
          this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', statusReason);
          await this.rollBackUpdate(stack, previous, previousVersion, attempted);
        }
        done?.(false);
      }
    });
  }

  private async deployVersion(
    stack: Stack,
    version: TemplateVersion,
    previous: DeployedResource[],
    beforeCleanup?: () => void,
  ): Promise<void> {
    const parameters = await this.resolvedParameters(version);
    const { target, clients } = this.options;
    const exports = this.otherExports(stack);
    const deployment = new StackDeployment(
      {
        stackName: stack.stackName,
        template: version.template,
        assets: version.assets
          ? assemblyAssets(version.assets, this.codeCache)
          : s3AssetSource(target.awsEndpoint, target.region, this.codeCache),
        parameters,
        stackId: stack.stackId,
      },
      { target, clients, exports },
    );
    deployment.validate();
    let cleanupAnnounced = false;
    const deployed = await deployment.deploy({
      previous,
      onEvent: (event) => {
        if (event.status === 'DELETE_IN_PROGRESS' && !cleanupAnnounced) {
          cleanupAnnounced = true;
          beforeCleanup?.();
        }
        this.resourceEvent(stack, event);
      },
    });
    stack.resources = deployed.resources;
    stack.outputs = deployed.outputs;
    stack.current = version;
    const exportNames = deployed.exportNames ?? {};
    stack.exports = new Map(Object.entries(exportNames).map(([key, name]) => [name, deployed.outputs[key]]));
    for (const [key, name] of Object.entries(exportNames)) version.outputInfo[key] = { ...version.outputInfo[key], exportName: name };
    // Resources the template no longer has leave DescribeStackResources.
    const live = new Set(deployed.resources.map((r) => r.logicalId));
    for (const id of [...stack.resourceStates.keys()]) if (!live.has(id)) stack.resourceStates.delete(id);
  }

  private async rollBackUpdate(
    stack: Stack,
    previous: DeployedResource[],
    previousVersion: TemplateVersion | undefined,
    attempted: DeployedResource[],
  ): Promise<void> {
    try {
      if (!previousVersion) throw new DeployError('no previous template to roll back to');
      // Resources of the failed attempt count as present, so the old template's deploy updates them back or deletes them.
      const byId = new Map(previous.map((r) => [r.logicalId, r]));
      for (const resource of attempted) byId.set(resource.logicalId, resource);
      await this.deployVersion(stack, previousVersion, [...byId.values()], () =>
        this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'),
      );
      this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE');
    } catch (err) {
      this.setStatus(stack, 'UPDATE_ROLLBACK_FAILED', err instanceof Error ? err.message : String(err));
    }
  }

  private setStatus(stack: Stack, status: string, reason?: string): void {
    stack.status = status;
    stack.statusReason = reason;
    this.stackEvent(stack, status, reason);
  }

  private stackEvent(stack: Stack, status: string, reason?: string): void {
    this.pushEvent(stack, {
      LogicalResourceId: stack.stackName,
      PhysicalResourceId: stack.stackId,
      ResourceType: 'AWS::CloudFormation::Stack',
      ResourceStatus: status,
      ResourceStatusReason: reason,
    });
  }

  private resourceEvent(stack: Stack, event: ResourceEvent): void {
    const timestamp = new Date();
    const known = stack.resourceStates.get(event.logicalId);
    const physicalId = event.physicalId ?? known?.physicalId;
    stack.resourceStates.set(event.logicalId, { type: event.type, physicalId, status: event.status, reason: event.reason, timestamp });
    if (event.status === 'DELETE_COMPLETE' && stack.resources.every((r) => r.logicalId !== event.logicalId)) {
      stack.resourceStates.delete(event.logicalId);
    }
    this.pushEvent(stack, {
      LogicalResourceId: event.logicalId,
      PhysicalResourceId: physicalId ?? '',
      ResourceType: event.type,
      ResourceStatus: event.status,
      ResourceStatusReason: event.reason,
    });
  }

  private pushEvent(stack: Stack, event: Omit<StackEvent, 'EventId' | 'StackId' | 'StackName' | 'Timestamp'>): void {
    if (event.ResourceStatus.endsWith('FAILED') || event.ResourceStatus.startsWith('ROLLBACK') || event.ResourceStatus.startsWith('UPDATE_ROLLBACK')) {
      this.log.info(`${stack.stackName} ${event.LogicalResourceId} ${event.ResourceStatus}${event.ResourceStatusReason ? `: ${event.ResourceStatusReason}` : ''}`);
    }
    this.lastEventAt = Math.max(Date.now(), this.lastEventAt + 1);
    const timestamp = new Date(this.lastEventAt);
    stack.events.unshift({ EventId: randomUUID(), StackId: stack.stackId, StackName: stack.stackName, Timestamp: timestamp, ...event });
  }
}

/** The template's resources against the deployed ones: what a change set lists. */
function diff(stack: Stack, template: CfnTemplate): ResourceChange[] {
  const before = stack.current?.template.Resources ?? {};
  const deployed = new Map(stack.resources.map((r) => [r.logicalId, r]));
  const changes: ResourceChange[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const old = before[logicalId];
    if (!old) changes.push({ Action: 'Add', LogicalResourceId: logicalId, ResourceType: resource.Type });
    else if (JSON.stringify(old) !== JSON.stringify(resource)) {
      changes.push({
        Action: 'Modify',
        LogicalResourceId: logicalId,
        PhysicalResourceId: deployed.get(logicalId)?.physicalId,
        ResourceType: resource.Type,
        Replacement: old.Type === resource.Type ? 'Conditional' : 'True',
      });
    }
  }
  for (const [logicalId, resource] of Object.entries(before)) {
    if (!(logicalId in template.Resources)) {
      changes.push({ Action: 'Remove', LogicalResourceId: logicalId, PhysicalResourceId: deployed.get(logicalId)?.physicalId, ResourceType: resource.Type });
    }
  }
  return changes;
}

/** The parameters and resources the template's resources, outputs and conditions refer to. */
function usedNames(template: CfnTemplate): Set<string> {
  const names = new Set<string>();
  const add = (value: unknown, at: string): void => scanIntrinsics(value, at).forEach((name) => names.add(name));
  for (const [id, resource] of Object.entries(template.Resources)) add(resource.Properties, `Resources.${id}`);
  for (const [key, output] of Object.entries(template.Outputs)) add([output.Value, output.ExportName], `Outputs.${key}`);
  for (const [key, condition] of Object.entries(template.Conditions)) add(condition, `Conditions.${key}`);
  return names;
}

function sameVersion(a: TemplateVersion | undefined, b: TemplateVersion): boolean {
  return a !== undefined && a.body === b.body && JSON.stringify(a.parameters) === JSON.stringify(b.parameters);
}
