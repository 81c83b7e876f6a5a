/**
 * The CloudFormation API on the edge (Query protocol): the calls the CDK CLI makes for
 * `cdk bootstrap`, `cdk deploy` (change sets by default, `--method=direct` too), `cdk
 * diff` and `cdk destroy`, plus the describe calls of the AWS CLI. Requests are told
 * apart by their SigV4 credential scope (`.../cloudformation/aws4_request`).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { EdgeHandler, EdgeRoute } from '../edge/edge.js';
import { BodyTooLargeError, readBody } from '../edge/http-util.js';
import { QueryError, QueryInput, sendQueryError, sendResult, validationError } from './query.js';
import type { ChangeSet, CloudFormationService, Stack, TemplateInput } from './service.js';

/** CloudFormation's own limit for a request (a TemplateBody is at most 51,200 bytes; TemplateURL for more). */
const MAX_REQUEST_BYTES = 1024 * 1024;
const EVENTS_PAGE = 100;

export function isCloudFormationRequest(method: string, headers: IncomingHttpHeaders): boolean {
  const authorization = headers.authorization;
  return (
    method === 'POST' &&
    typeof authorization === 'string' &&
    /Credential=[^/,\s]+\/[^/]+\/[^/]+\/cloudformation\/aws4_request/.test(authorization)
  );
}

export function cloudFormationApi(service: CloudFormationService): EdgeRoute {
  return (method, _url, headers): EdgeHandler | undefined =>
    headers && isCloudFormationRequest(method, headers) ? (req, res) => handle(service, req, res) : undefined;
}

async function handle(service: CloudFormationService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let input: QueryInput;
  try {
    input = QueryInput.parse((await readBody(req, MAX_REQUEST_BYTES)).toString('utf8'));
  } catch (err) {
    if (err instanceof BodyTooLargeError) return sendQueryError(res, validationError(`Request larger than ${MAX_REQUEST_BYTES} bytes`));
    throw err;
  }
  const action = ACTIONS[input.action];
  if (!action) {
    return sendQueryError(res, new QueryError('InvalidAction', `The action ${input.action || '(none)'} is not valid for this web service (not emulated locally)`));
  }
  try {
    sendResult(res, input.action, await action(service, input));
  } catch (err) {
    if (err instanceof QueryError) return sendQueryError(res, err);
    throw err;
  }
}

type Action = (service: CloudFormationService, input: QueryInput) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;

function templateInput(input: QueryInput): TemplateInput {
  return {
    templateBody: input.optString('TemplateBody'),
    templateUrl: input.optString('TemplateURL'),
    usePreviousTemplate: input.optBoolean('UsePreviousTemplate'),
    parameters: input.structList('Parameters'),
  };
}

function extras(input: QueryInput) {
  const tags = input.structList('Tags').map((tag) => ({ Key: tag.Key ?? '', Value: tag.Value ?? '' }));
  return { capabilities: input.stringList('Capabilities'), tags, description: input.optString('Description') };
}

const ACTIONS: Record<string, Action> = {
  async CreateChangeSet(service, input) {
    const stackName = input.string('StackName');
    const name = input.string('ChangeSetName');
    const version = await service.loadTemplate(templateInput(input), service.find(stackName));
    const changeSet = service.createChangeSet(stackName, name, input.optString('ChangeSetType') ?? 'UPDATE', version, extras(input));
    return { Id: changeSet.id, StackId: changeSet.stack.stackId };
  },
  DescribeChangeSet(service, input) {
    const changeSet = service.changeSet(input.string('ChangeSetName'), input.optString('StackName'));
    return changeSetShape(changeSet);
  },
  ListChangeSets(service, input) {
    const stack = service.get(input.string('StackName'));
    return {
      Summaries: [...stack.changeSets.values()].map((c) => ({
        StackId: stack.stackId,
        StackName: stack.stackName,
        ChangeSetId: c.id,
        ChangeSetName: c.name,
        ExecutionStatus: c.executionStatus,
        Status: c.status,
        StatusReason: c.statusReason,
        CreationTime: c.creationTime,
      })),
    };
  },
  ExecuteChangeSet(service, input) {
    service.executeChangeSet(service.changeSet(input.string('ChangeSetName'), input.optString('StackName')));
    return {};
  },
  DeleteChangeSet(service, input) {
    const name = input.string('ChangeSetName');
    const stackName = input.optString('StackName');
    // By name, deleting a change set that is not there succeeds (the CDK CLI clears its old one unconditionally).
    if (!name.startsWith('arn:') && stackName !== undefined && !service.find(stackName)?.changeSets.has(name)) {
      service.get(stackName);
      return {};
    }
    service.deleteChangeSet(service.changeSet(name, stackName));
    return {};
  },
  async CreateStack(service, input) {
    const stackName = input.string('StackName');
    if (service.find(stackName)) throw new QueryError('AlreadyExistsException', `Stack [${stackName}] already exists`);
    const version = await service.loadTemplate(templateInput(input), undefined);
    return { StackId: service.createStack(stackName, version, extras(input)).stackId };
  },
  async UpdateStack(service, input) {
    const stack = service.get(input.string('StackName'));
    const version = await service.loadTemplate(templateInput(input), stack);
    service.updateStack(stack, version);
    return { StackId: stack.stackId };
  },
  DeleteStack(service, input) {
    const stack = service.find(input.string('StackName'));
    if (stack) service.deleteStack(stack);
    return undefined;
  },
  UpdateTerminationProtection(service, input) {
    const stack = service.get(input.string('StackName'));
    const enabled = input.optBoolean('EnableTerminationProtection');
    if (enabled === undefined) throw validationError('EnableTerminationProtection must be specified');
    service.setTerminationProtection(stack, enabled);
    return { StackId: stack.stackId };
  },
  DescribeStacks(service, input) {
    const name = input.optString('StackName');
    const stacks = name === undefined ? service.liveStacks() : [service.get(name)];
    return { Stacks: stacks.map(stackShape) };
  },
  ListStacks(service, input) {
    const filter = new Set(input.stringList('StackStatusFilter'));
    return {
      StackSummaries: service
        .allStacks()
        .filter((s) => filter.size === 0 || filter.has(s.status))
        .map((s) => ({
          StackId: s.stackId,
          StackName: s.stackName,
          TemplateDescription: s.current?.description,
          CreationTime: s.creationTime,
          LastUpdatedTime: s.lastUpdatedTime,
          DeletionTime: s.deletionTime,
          StackStatus: s.status,
          StackStatusReason: s.statusReason,
        })),
    };
  },
  DescribeStackEvents(service, input) {
    const stack = service.get(input.string('StackName'));
    const start = Number(input.optString('NextToken') ?? '0');
    if (!Number.isInteger(start) || start < 0) throw validationError('NextToken is not valid');
    const page = stack.events.slice(start, start + EVENTS_PAGE);
    const next = start + EVENTS_PAGE < stack.events.length ? String(start + EVENTS_PAGE) : undefined;
    return { StackEvents: page, NextToken: next };
  },
  DescribeStackResources(service, input) {
    const stack = service.get(input.string('StackName'));
    const logicalId = input.optString('LogicalResourceId');
    return {
      StackResources: resourceEntries(stack)
        .filter(([id]) => logicalId === undefined || id === logicalId)
        .map(([id, state]) => ({
          StackName: stack.stackName,
          StackId: stack.stackId,
          LogicalResourceId: id,
          PhysicalResourceId: state.physicalId,
          ResourceType: state.type,
          Timestamp: state.timestamp,
          ResourceStatus: state.status,
          ResourceStatusReason: state.reason,
          DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
        })),
    };
  },
  DescribeStackResource(service, input) {
    const stack = service.get(input.string('StackName'));
    const logicalId = input.string('LogicalResourceId');
    const state = stack.resourceStates.get(logicalId);
    if (!state) throw validationError(`Resource ${logicalId} does not exist for stack ${stack.stackName}`);
    return {
      StackResourceDetail: {
        StackName: stack.stackName,
        StackId: stack.stackId,
        LogicalResourceId: logicalId,
        PhysicalResourceId: state.physicalId,
        ResourceType: state.type,
        LastUpdatedTimestamp: state.timestamp,
        ResourceStatus: state.status,
        ResourceStatusReason: state.reason,
        Metadata: '{}',
      },
    };
  },
  ListStackResources(service, input) {
    const stack = service.get(input.string('StackName'));
    return {
      StackResourceSummaries: resourceEntries(stack).map(([id, state]) => ({
        LogicalResourceId: id,
        PhysicalResourceId: state.physicalId,
        ResourceType: state.type,
        LastUpdatedTimestamp: state.timestamp,
        ResourceStatus: state.status,
        ResourceStatusReason: state.reason,
        DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
      })),
    };
  },
  GetTemplate(service, input) {
    const changeSetName = input.optString('ChangeSetName');
    if (changeSetName !== undefined) {
      const changeSet = service.changeSet(changeSetName, input.optString('StackName'));
      return { TemplateBody: changeSet.version.body, StagesAvailable: ['Original', 'Processed'] };
    }
    const stack = service.get(input.string('StackName'));
    return { TemplateBody: stack.current?.body ?? '{}', StagesAvailable: ['Original', 'Processed'] };
  },
  async GetTemplateSummary(service, input) {
    const stackName = input.optString('StackName');
    const version = stackName
      ? service.get(stackName).current
      : await service.loadTemplate({ ...templateInput(input), parameters: [] }, undefined).catch((err: unknown) => {
          // A summary of a template whose parameters have no values is still a summary.
          if (err instanceof QueryError && /must have values/.test(err.message)) return undefined;
          throw err;
        });
    if (!version) return { Parameters: [], ResourceTypes: [] };
    return {
      Parameters: Object.entries(version.template.Parameters).map(([key, p]) => ({ ParameterKey: key, DefaultValue: p.Default, ParameterType: p.Type })),
      Description: version.description,
      ResourceTypes: [...new Set(Object.values(version.template.Resources).map((r) => r.Type))],
      Version: '2010-09-09',
    };
  },
  async ValidateTemplate(service, input) {
    const version = await service.loadTemplate({ ...templateInput(input), parameters: [] }, undefined).catch((err: unknown) => {
      if (err instanceof QueryError && /must have values/.test(err.message)) return undefined;
      throw err;
    });
    return { Description: version?.description, Parameters: [] };
  },
  ListExports(service) {
    return {
      Exports: service.liveStacks().flatMap((s) => [...s.exports].map(([Name, Value]) => ({ ExportingStackId: s.stackId, Name, Value }))),
    };
  },
};

function resourceEntries(stack: Stack) {
  return [...stack.resourceStates].filter(([, state]) => state.status !== 'DELETE_COMPLETE');
}

function stackShape(stack: Stack): Record<string, unknown> {
  const info = stack.current?.outputInfo ?? {};
  return {
    StackId: stack.stackId,
    StackName: stack.stackName,
    Description: stack.current?.description,
    Parameters: Object.entries(stack.current?.parameters ?? {}).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    CreationTime: stack.creationTime,
    LastUpdatedTime: stack.lastUpdatedTime,
    DeletionTime: stack.deletionTime,
    StackStatus: stack.status,
    StackStatusReason: stack.statusReason,
    DisableRollback: false,
    NotificationARNs: [],
    Capabilities: stack.capabilities,
    Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({
      OutputKey,
      OutputValue,
      Description: info[OutputKey]?.description,
      ExportName: info[OutputKey]?.exportName,
    })),
    Tags: stack.tags,
    EnableTerminationProtection: stack.terminationProtection,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

function changeSetShape(changeSet: ChangeSet): Record<string, unknown> {
  const { stack } = changeSet;
  return {
    ChangeSetName: changeSet.name,
    ChangeSetId: changeSet.id,
    StackId: stack.stackId,
    StackName: stack.stackName,
    Description: changeSet.description,
    Parameters: Object.entries(changeSet.version.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    CreationTime: changeSet.creationTime,
    ExecutionStatus: changeSet.executionStatus,
    Status: changeSet.status,
    StatusReason: changeSet.statusReason,
    NotificationARNs: [],
    Capabilities: stack.capabilities,
    Tags: stack.tags,
    Changes: changeSet.changes.map((change) => ({
      Type: 'Resource',
      ResourceChange: { ...change, Scope: change.Action === 'Modify' ? ['Properties'] : [], Details: [] },
    })),
    IncludeNestedStacks: false,
  };
}
