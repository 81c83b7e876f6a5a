import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { LeadershipStackOutputs } from './stack-outputs.js';

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

/** Invokes the project's functions by their deployed names (endpoint from AWS_ENDPOINT_URL or explicit). */
export class LeadershipClient {
  private readonly lambda: LambdaClient;

  constructor(
    private readonly outputs: LeadershipStackOutputs,
    options: { endpoint?: string; region?: string } = {},
  ) {
    this.lambda = new LambdaClient({
      region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      maxAttempts: 1,
    });
  }

  async invoke<T>(functionName: string, payload: unknown): Promise<T> {
    const response = await this.lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : 'null';
    const body = JSON.parse(text === '' ? 'null' : text) as unknown;
    if (response.FunctionError) {
      const error = (body ?? {}) as { errorType?: string; errorMessage?: string };
      throw new RemoteFunctionError(functionName, error.errorType ?? 'Unhandled', error.errorMessage ?? text);
    }
    return body as T;
  }

  heartbeat(brokerId: string, incarnation?: number) {
    return this.invoke<HeartbeatResponse>(this.outputs.HeartbeatFunctionName, { brokerId, incarnation });
  }
  createTopic(request: { topic: string; partitions: number; replicationFactor: number; minInsyncReplicas?: number; uncleanLeaderElection?: boolean }) {
    return this.invoke<unknown>(this.outputs.CreateTopicFunctionName, request);
  }
  describe(topic?: string) {
    return this.invoke<DescribeResponse>(this.outputs.DescribeFunctionName, topic ? { topic } : {});
  }
  produce(request: { topic: string; partition: number; records: Array<{ key?: string | null; value: string }>; leaderEpoch?: number }) {
    return this.invoke<ProduceResponse>(this.outputs.ProduceFunctionName, request);
  }
  consume(request: { topic: string; partition: number; offset?: number; maxRecords?: number; leaderEpoch?: number }) {
    return this.invoke<ConsumeResponse>(this.outputs.ConsumeFunctionName, request);
  }

  close(): void {
    this.lambda.destroy();
  }
}

export interface HeartbeatResponse {
  brokerId: string;
  incarnation: number;
  deadlineMs: number;
  expiresAt: number;
  rejoined: boolean;
  sweptBrokers: string[];
}

export interface PartitionView {
  Topic: string;
  Partition: number;
  Leader: string | null;
  Replicas: string[];
  Isr: string[];
  LeaderEpoch: number;
  HighWatermark: number;
  State: 'ONLINE' | 'OFFLINE';
}

export interface DescribeResponse {
  topics: Array<{ topic: string; partitionCount: number; replicationFactor: number; partitions: PartitionView[] }>;
  brokers: Array<{ brokerId: string; incarnation: number; lastHeartbeatAt: number; deadlineMs: number; alive: boolean }>;
}

export interface ProduceResponse {
  topic: string;
  partition: number;
  leader: string;
  leaderEpoch: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
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
