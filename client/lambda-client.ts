import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ErrorName } from '../protocol/errors.js';
import { FUNCTION_PROTOCOL, type FunctionKey, type LeadershipStackOutputs, type RequestOf, type ResponseOf } from '../protocol/functions.js';
import type {
  ConsumeRequest,
  CreateTopicRequest,
  ElectLeadersRequest,
  FetchRequest,
  ProduceBatchesRequest,
  ProduceRequest,
} from '../protocol/messages.js';

/** The protocol's types, for the client's callers (declared once, in protocol/). */
export type * from '../protocol/messages.js';
export type { LeadershipEvent, PartitionView } from '../protocol/leadership.js';
export type { FunctionKey, RequestOf, ResponseOf } from '../protocol/functions.js';

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

/** Whether `error` is the function error `name` of the error catalogue (a misspelt name does not compile). */
export const isFunctionError = (error: unknown, name: ErrorName): error is RemoteFunctionError =>
  error instanceof RemoteFunctionError && error.errorType === name;

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

/** The AWS SDK's Lambda Invoke as a transport (what a client uses unless given another). */
export function sdkTransport(lambda: LambdaClient): LambdaTransport {
  return async (functionName, payload, invokeOptions) => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(payload), InvocationType: invokeOptions?.invocationType }),
    );
    return { payload: response.Payload ? Buffer.from(response.Payload).toString('utf8') : 'null', functionError: response.FunctionError };
  };
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
      this.transport = sdkTransport(lambda);
    }
  }

  /** The deployed name of function `key`, from the stack outputs. */
  functionName(key: FunctionKey): string {
    return this.outputs[FUNCTION_PROTOCOL[key].output];
  }

  /**
   * Invokes function `key` with a request the protocol says it takes, and answers what the
   * protocol says it answers to that request: a function added to the protocol can be
   * called here without any change to the client.
   */
  invoke<K extends FunctionKey, R extends RequestOf<K>>(key: K, request: R): Promise<ResponseOf<K, R>> {
    return this.invokeFunction<ResponseOf<K, R>>(this.functionName(key), request);
  }

  /** Invokes a function by its deployed name with any payload (malformed requests in tests, say): the answer is not checked. */
  async invokeFunction<T = unknown>(functionName: string, payload: unknown): Promise<T> {
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
    return this.invoke('heartbeat', { brokerId, credential, incarnation });
  }
  /**
   * An admin registers (or rotates) a broker's credential (Kafka's AlterUserScramCredentials); without
   * `credential` one is generated. The answer is the only place the credential is ever shown.
   */
  registerBroker(brokerId: string, credential?: string) {
    return this.invoke('registerBroker', { brokerId, ...(credential === undefined ? {} : { credential }) });
  }
  createTopic(request: CreateTopicRequest) {
    return this.invoke('createTopic', request);
  }
  describe(topic?: string) {
    return this.invoke('describe', topic ? { topic } : {});
  }
  /**
   * `acks`: "all" (default; -1 alike) or 1 (the leader's write only). An idempotent producer
   * adds producerId, producerEpoch and baseSequence.
   */
  produce(request: ProduceRequest) {
    return this.invoke('produce', request);
  }
  /**
   * Kafka's ProduceRequest: batches for several partitions (any topics, at most one batch per
   * partition) in one invocation, answered in the order sent, each with its offsets or with the
   * error a produce of it alone would have failed with (a ProduceBatchRefusal). A fault (the
   * invocation failed, a malformed request) fails the whole call. For diskless topics the
   * batches share one object in S3.
   */
  produceBatches(request: ProduceBatchesRequest) {
    return this.invoke('produce', request);
  }
  /** acks=0: the produce is queued (an asynchronous invocation) and nothing is learned of it. */
  async produceWithoutAck(request: Omit<ProduceRequest, 'acks'>): Promise<void> {
    await this.transport(this.functionName('produce'), JSON.stringify({ ...request, acks: 0 }), { invocationType: 'Event' });
  }
  /** Kafka's InitProducerId: a fresh producer id (epoch 0) for an idempotent producer. */
  initProducerId() {
    return this.invoke('initProducerId', {});
  }
  consume(request: ConsumeRequest) {
    return this.invoke('consume', request);
  }
  /**
   * Kafka's Fetch: many partitions' consumes in one invocation, answered in the order asked,
   * each with its records or with the error a consume of it alone would have failed with.
   * `maxBytes`: fetch.max.bytes, for all the records together (default and at most 5 MiB).
   */
  fetch(request: FetchRequest) {
    return this.invoke('consume', request);
  }

  /** The broker hands its leaderships over, leaves the ISRs and deletes its lease (Kafka's controlled shutdown); only the broker itself, with its credential. */
  controlledShutdown(brokerId: string, incarnation: number, credential: string) {
    return this.invoke('controlledShutdown', { brokerId, incarnation, credential });
  }
  /** Preferred-leader election (kafka-leader-election --election-type PREFERRED). */
  electLeaders(request: ElectLeadersRequest) {
    return this.invoke('electLeaders', request);
  }

  close(): void {
    this.lambda?.destroy();
  }
}
