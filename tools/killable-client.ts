/**
 * A client whose calls can be cut off at once, as a killed process's are: the tests and
 * benchmarks of consumer groups kill a member this way (it stops heartbeating and never
 * leaves the group), without stopping the cloud or the other members.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LeadershipClient, sdkTransport, type LambdaTransport, type LeadershipClientOptions } from '../client/lambda-client.js';
import type { LeadershipStackOutputs } from '../client/stack-outputs.js';

export interface KillableClient {
  client: LeadershipClient;
  /** From now on every call fails, and no call reaches the cloud. */
  kill(): void;
  close(): void;
}

export function killableClient(outputs: LeadershipStackOutputs, options: { endpoint: string; region?: string } & Pick<LeadershipClientOptions, 'onInvoke'>): KillableClient {
  const lambda = new LambdaClient({ endpoint: options.endpoint, region: options.region ?? process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 1 });
  let killed = false;
  const invoke = sdkTransport(lambda);
  const transport: LambdaTransport = async (functionName, payload, invokeOptions) => {
    if (killed) throw new Error('this process was killed');
    return invoke(functionName, payload, invokeOptions);
  };
  return {
    client: new LeadershipClient(outputs, { transport, onInvoke: options.onInvoke }),
    kill: () => (killed = true),
    close: () => lambda.destroy(),
  };
}
