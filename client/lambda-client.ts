import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { LeadershipStackOutputs } from './stack-outputs.js';
import type { PartitionView } from './wire-types.js';

/** A Lambda-reported error (FunctionError), with the handler's errorType kept. */
export class RemoteFunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${functionName}: ${errorType}: ${message}`);
    this.name = 'RemoteFunctionError';
  }
}

/** What a Lambda Invoke answers: the payload text and, when the handler failed, its FunctionError. */
export interface InvokeOutcome {
  payload: string;
  functionError?: string;
}

/**
 * Carries one invocation. The default one is the AWS SDK's Lambda Invoke; unit tests pass
 * a fake (no network). A transport throws for faults of the Lambda API or the network.
 */
export type LambdaTransport = (functionName: string, payload: string, options?: InvokeOptions) => Promise<InvokeOutcome>;

export interface InvokeOptions {
  /** 'Event': queued, answered at once without the function's result (Lambda's asynchronous invocation). */
  invocationType?: 'RequestResponse' | 'Event';
}

export interface LeadershipClientOptions {
  endpoint?: string;
  region?: string;
  /** Replaces the AWS SDK Lambda client (tests). */
  transport?: LambdaTransport;
  /** Told of every invoke once it ended (metrics, benchmarks): what was called, when, and how it ended. */
  onInvoke?: (record: InvokeRecord) => void;
}

/** One invoke as `onInvoke` sees it. Times are Date.now() milliseconds. */
export interface InvokeRecord {
  functionName: string;
  payload: unknown;
  startedAt: number;
  endedAt: number;
  /** The answer when it succeeded. */
  answer?: unknown;
  /** What it threw: a RemoteFunctionError, or a fault of the Lambda API or the network. */
  error?: unknown;
}

/** Invokes the project's functions by their deployed names (endpoint from AWS_ENDPOINT_URL or explicit). */
export class LeadershipClient {
  private readonly lambda?: LambdaClient;
  private readonly transport: LambdaTransport;
  private readonly onInvoke?: (record: InvokeRecord) => void;

  constructor(
    readonly outputs: LeadershipStackOutputs,
    options: LeadershipClientOptions = {},
  ) {
    this.onInvoke = options.onInvoke;
    if (options.transport) {
      this.transport = options.transport;
    } else {
      const lambda = new LambdaClient({
        region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        maxAttempts: 1,
      });
      this.lambda = lambda;
      this.transport = async (functionName, payload, invokeOptions) => {
        const response = await lambda.send(
          new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(payload), InvocationType: invokeOptions?.invocationType }),
        );
        return { payload: response.Payload ? Buffer.from(response.Payload).toString('utf8') : 'null', functionError: response.FunctionError };
      };
    }
  }

  async invoke<T>(functionName: string, payload: unknown): Promise<T> {
    if (!this.onInvoke) return this.invokeOnce<T>(functionName, payload);
    const startedAt = Date.now();
    try {
      const answer = await this.invokeOnce<T>(functionName, payload);
      this.onInvoke({ functionName, payload, startedAt, endedAt: Date.now(), answer });
      return answer;
    } catch (error) {
      this.onInvoke({ functionName, payload, startedAt, endedAt: Date.now(), error });
      throw error;
    }
  }

  private async invokeOnce<T>(functionName: string, payload: unknown): Promise<T> {
    const response = await this.transport(functionName, JSON.stringify(payload));
    const text = response.payload;
    const body = JSON.parse(text === '' ? 'null' : text) as unknown;
    if (response.functionError) {
      const error = (body ?? {}) as { errorType?: string; errorMessage?: string };
      throw new RemoteFunctionError(functionName, error.errorType ?? 'Unhandled', error.errorMessage ?? text);
    }
    return body as T;
  }

  /** A broker's heartbeat, with the credential RegisterBroker gave it; the incarnation its last heartbeat returned (none on a first start). */
  heartbeat(brokerId: string, credential: string, incarnation?: number) {
    return this.invoke<HeartbeatResponse>(this.outputs.HeartbeatFunctionName, { brokerId, credential, incarnation });
  }
  /**
   * An admin registers (or rotates) a broker's credential (Kafka's AlterUserScramCredentials); without
   * `credential` one is generated. The answer is the only place the credential is ever shown.
   */
  registerBroker(brokerId: string, credential?: string) {
    return this.invoke<RegisterBrokerResponse>(this.outputs.RegisterBrokerFunctionName, { brokerId, ...(credential === undefined ? {} : { credential }) });
  }
  createTopic(request: { topic: string; partitions: number; replicationFactor: number; minInsyncReplicas?: number; uncleanLeaderElection?: boolean }) {
    return this.invoke<CreateTopicResponse>(this.outputs.CreateTopicFunctionName, request);
  }
  describe(topic?: string) {
    return this.invoke<DescribeResponse>(this.outputs.DescribeFunctionName, topic ? { topic } : {});
  }
  /**
   * `acks`: "all" (default; -1 alike) or 1 (the leader's write only). An idempotent producer
   * adds producerId, producerEpoch and baseSequence.
   */
  produce(request: ProduceRequest) {
    return this.invoke<ProduceResponse>(this.outputs.ProduceFunctionName, request);
  }
  /** acks=0: the produce is queued (an asynchronous invocation) and nothing is learned of it. */
  async produceWithoutAck(request: Omit<ProduceRequest, 'acks'>): Promise<void> {
    await this.transport(this.outputs.ProduceFunctionName, JSON.stringify({ ...request, acks: 0 }), { invocationType: 'Event' });
  }
  /** Kafka's InitProducerId: a fresh producer id (epoch 0) for an idempotent producer. */
  initProducerId() {
    return this.invoke<InitProducerIdResponse>(this.outputs.InitProducerIdFunctionName, {});
  }
  consume(request: ConsumeRequest) {
    return this.invoke<ConsumeResponse>(this.outputs.ConsumeFunctionName, request);
  }
  /**
   * Kafka's Fetch: many partitions' consumes in one invocation, answered in the order asked,
   * each with its records or with the error a consume of it alone would have failed with.
   * `maxBytes`: fetch.max.bytes, for all the records together (default and at most 5 MiB).
   */
  fetch(request: { partitions: ConsumeRequest[]; maxBytes?: number }) {
    return this.invoke<FetchResponse>(this.outputs.ConsumeFunctionName, request);
  }

  /** The broker hands its leaderships over, leaves the ISRs and deletes its lease (Kafka's controlled shutdown); only the broker itself, with its credential. */
  controlledShutdown(brokerId: string, incarnation: number, credential: string) {
    return this.invoke<ControlledShutdownResponse>(this.outputs.ControlledShutdownFunctionName, { brokerId, incarnation, credential });
  }
  /** Preferred-leader election (kafka-leader-election --election-type PREFERRED). */
  electLeaders(request: { topic?: string; partitions?: number[] }) {
    return this.invoke<LeadershipEventResponse[]>(this.outputs.ElectLeadersFunctionName, request);
  }

  close(): void {
    this.lambda?.destroy();
  }
}

export interface ControlledShutdownResponse {
  movedLeaderships: string[];
  leftIsrs: string[];
  remainingLeaderships: string[];
  deregistered: boolean;
}

export interface LeadershipEventResponse {
  topic: string;
  partition: number;
  previousLeader: string | null;
  newLeader: string | null;
  leaderEpoch: number;
  reason: string;
}

export interface RegisterBrokerResponse {
  brokerId: string;
  /** Shown this once: the cluster keeps only a salted hash of it. */
  credential: string;
  /** The broker had a credential, now refused from its next heartbeat on. */
  rotated: boolean;
}

export interface HeartbeatResponse {
  brokerId: string;
  incarnation: number;
  deadlineMs: number;
  expiresAt: number;
  rejoined: boolean;
  sweptBrokers: string[];
}

export type { PartitionView } from './wire-types.js';

export interface DescribeResponse {
  topics: Array<{ topic: string; partitionCount: number; replicationFactor: number; partitions: PartitionView[] }>;
  brokers: Array<{ brokerId: string; incarnation: number; lastHeartbeatAt: number; deadlineMs: number; alive: boolean }>;
}

export interface ProduceRequest {
  topic: string;
  partition: number;
  records: Array<{ key?: string | null; value: string }>;
  leaderEpoch?: number;
  acks?: 'all' | -1 | 1;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

export interface ProduceResponse {
  topic: string;
  partition: number;
  leader: string;
  leaderEpoch: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
  /** The batch was in the log already (a retry): these are its original offsets. */
  duplicate?: true;
}

export interface InitProducerIdResponse {
  producerId: number;
  producerEpoch: number;
}

export interface ConsumeRequest {
  topic: string;
  partition: number;
  offset?: number;
  maxRecords?: number;
  /** max.partition.fetch.bytes: key and value bytes, past the first record (default 1 MiB). */
  maxBytes?: number;
  leaderEpoch?: number;
}

export interface FetchResponse {
  partitions: Array<ConsumeResponse | FetchPartitionError>;
}

/** A partition of a fetch that was refused: what a consume of it alone would have failed with. */
export interface FetchPartitionError {
  topic: string;
  partition: number;
  errorType: string;
  errorMessage: string;
}

export interface ConsumeResponse {
  topic: string;
  partition: number;
  leader: string;
  leaderEpoch: number;
  highWatermark: number;
  records: Array<{ offset: number; leaderEpoch: number; key: string | null; value: string; appendedAt: number }>;
  nextOffset: number;
}

export interface CreateTopicResponse {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
  assignments: PartitionView[];
  /** Whether the partitions' CREATED leadership events reached the queue; the topic exists either way. */
  eventsPublished: boolean;
  eventsError?: string;
}
