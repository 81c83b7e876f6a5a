/**
 * Every deployed function as its callers see it: the stack output that names it, who may
 * invoke it, and the requests it takes with the response to each. functions/function-table.ts
 * deploys exactly these keys (compiler-checked), the client invokes by key, and the stack
 * outputs the client reads are derived from here, so adding a function is one entry here
 * and nothing in client/.
 */
import type {
  AutoRebalanceResponse,
  ConsumeRequest,
  ConsumeResponse,
  ControlledShutdownRequest,
  ControlledShutdownResponse,
  CreateTopicRequest,
  CreateTopicResponse,
  DescribeRequest,
  DescribeResponse,
  ElectLeadersRequest,
  ElectLeadersResponse,
  EmptyRequest,
  FetchRequest,
  GroupsApi,
  GroupsRequest,
  GroupsResponses,
  FetchResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  OffsetsForLeaderEpochRequest,
  OffsetsForLeaderEpochResponse,
  ProduceBatchesRequest,
  ProduceBatchesResponse,
  ProduceRequest,
  ProduceResponse,
  ReconcileResponse,
  RegisterBrokerRequest,
  RegisterBrokerResponse,
  SweepGroupsResponse,
  SweepObjectsResponse,
  SweepResponse,
} from './messages.js';

/**
 * Who may invoke a function. The stack grants `lambda:InvokeFunction` per audience
 * in one IAM managed policy each (client, broker, admin), which an operator attaches to
 * the roles or groups of that kind of caller; 'internal' functions are invoked only
 * by their trigger (a stream mapping or a schedule), and no policy names them.
 */
export type Audience = 'client' | 'broker' | 'admin' | 'internal';

/** One request a function takes, and the response it gives to it. */
export interface Exchange<Request, Response> {
  readonly request: Request;
  readonly response: Response;
}

export interface FunctionContract {
  /** The CloudFormation output giving the function's deployed name. */
  readonly output: `${string}FunctionName`;
  readonly audience: Audience;
  /** Types only, never set: the exchanges the function answers (never: it is not invoked with a request of its own). */
  readonly exchanges?: Exchange<unknown, unknown>;
}

/** Marks an entry's exchanges (a type, nothing at run time): `...answers<Request, Response>()`. */
const answers = <Request, Response>(): { readonly exchanges?: Exchange<Request, Response> } => ({});
/** Several request shapes, each with its own response. */
const answersEach = <Exchanges extends Exchange<unknown, unknown>>(): { readonly exchanges?: Exchanges } => ({});
/** A function driven by a stream: nothing invokes it with a request of its own. */
const streamTriggered: { readonly exchanges?: never } = {};

/** The groups function's exchanges: each API's request (named by its `api`) with that API's response. */
type GroupsExchanges = { [A in GroupsApi]: Exchange<Extract<GroupsRequest, { api: A }>, GroupsResponses[A]> }[GroupsApi];

export const FUNCTION_PROTOCOL = {
  heartbeat: { output: 'HeartbeatFunctionName', audience: 'broker', ...answers<HeartbeatRequest, HeartbeatResponse>() },
  registerBroker: { output: 'RegisterBrokerFunctionName', audience: 'admin', ...answers<RegisterBrokerRequest, RegisterBrokerResponse>() },
  createTopic: { output: 'CreateTopicFunctionName', audience: 'admin', ...answers<CreateTopicRequest, CreateTopicResponse>() },
  describe: { output: 'DescribeFunctionName', audience: 'client', ...answers<DescribeRequest, DescribeResponse>() },
  produce: {
    output: 'ProduceFunctionName',
    audience: 'client',
    ...answersEach<Exchange<ProduceRequest, ProduceResponse> | Exchange<ProduceBatchesRequest, ProduceBatchesResponse>>(),
  },
  initProducerId: { output: 'InitProducerIdFunctionName', audience: 'client', ...answers<InitProducerIdRequest, InitProducerIdResponse>() },
  consume: {
    output: 'ConsumeFunctionName',
    audience: 'client',
    ...answersEach<
      | Exchange<ConsumeRequest, ConsumeResponse>
      | Exchange<FetchRequest, FetchResponse>
      | Exchange<OffsetsForLeaderEpochRequest, OffsetsForLeaderEpochResponse>
    >(),
  },
  sweep: { output: 'SweepFunctionName', audience: 'internal', ...answers<EmptyRequest, SweepResponse>() },
  reconcile: { output: 'ReconcileFunctionName', audience: 'internal', ...answers<EmptyRequest, ReconcileResponse>() },
  sweepObjects: { output: 'SweepObjectsFunctionName', audience: 'internal', ...answers<EmptyRequest, SweepObjectsResponse>() },
  controlledShutdown: {
    output: 'ControlledShutdownFunctionName',
    audience: 'broker',
    ...answers<ControlledShutdownRequest, ControlledShutdownResponse>(),
  },
  electLeaders: { output: 'ElectLeadersFunctionName', audience: 'admin', ...answers<ElectLeadersRequest, ElectLeadersResponse>() },
  autoRebalance: { output: 'AutoRebalanceFunctionName', audience: 'internal', ...answers<EmptyRequest, AutoRebalanceResponse>() },
  groups: { output: 'GroupsFunctionName', audience: 'client', ...answersEach<GroupsExchanges>() },
  sweepGroups: { output: 'SweepGroupsFunctionName', audience: 'internal', ...answers<EmptyRequest, SweepGroupsResponse>() },
  failureDetector: { output: 'FailureDetectorFunctionName', audience: 'internal', ...streamTriggered },
  replicate: { output: 'ReplicateFunctionName', audience: 'internal', ...streamTriggered },
} as const satisfies Record<string, FunctionContract>;

export type FunctionKey = keyof typeof FUNCTION_PROTOCOL;

type ExchangesOf<K extends FunctionKey> = NonNullable<(typeof FUNCTION_PROTOCOL)[K]['exchanges']>;

/** What function K may be invoked with (never: a stream-triggered function). */
export type RequestOf<K extends FunctionKey> = ExchangesOf<K>['request'];

/** What function K answers to a request R (by default, to any of its requests). */
export type ResponseOf<K extends FunctionKey, R extends RequestOf<K> = RequestOf<K>> =
  ExchangesOf<K> extends infer E ? (E extends Exchange<infer Request, infer Response> ? (R extends Request ? Response : never) : never) : never;

/** The output naming function K. */
export type FunctionOutput<K extends FunctionKey = FunctionKey> = (typeof FUNCTION_PROTOCOL)[K]['output'];

/** The stack's outputs for its tables, its queue and its bucket. */
export const RESOURCE_OUTPUTS = {
  brokersTable: 'BrokersTableName',
  metadataTable: 'MetadataTableName',
  logTable: 'LogTableName',
  leadershipEventsQueue: 'LeadershipEventsQueueUrl',
  objectsBucket: 'ObjectsBucketName',
} as const;

export type ResourceKey = keyof typeof RESOURCE_OUTPUTS;
export type ResourceOutput = (typeof RESOURCE_OUTPUTS)[ResourceKey];

/** Every output the client, the console, the scripts and the tests read. */
export type StackOutputName = FunctionOutput | ResourceOutput;

/** The stack outputs this project relies on, as `cdk deploy --outputs-file` writes them. */
export type LeadershipStackOutputs = Record<StackOutputName, string>;

export const STACK_OUTPUT_NAMES: readonly StackOutputName[] = [
  ...Object.values(FUNCTION_PROTOCOL).map((contract) => contract.output),
  ...Object.values(RESOURCE_OUTPUTS),
];
