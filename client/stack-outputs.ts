import { readFileSync } from 'node:fs';

/** The stack outputs this project relies on, as `cdk deploy --outputs-file` writes them. */
export interface LeadershipStackOutputs {
  HeartbeatFunctionName: string;
  RegisterBrokerFunctionName: string;
  CreateTopicFunctionName: string;
  DescribeFunctionName: string;
  ProduceFunctionName: string;
  InitProducerIdFunctionName: string;
  ConsumeFunctionName: string;
  FailureDetectorFunctionName: string;
  ReplicateFunctionName: string;
  SweepFunctionName: string;
  ReconcileFunctionName: string;
  ControlledShutdownFunctionName: string;
  ElectLeadersFunctionName: string;
  AutoRebalanceFunctionName: string;
  BrokersTableName: string;
  MetadataTableName: string;
  LogTableName: string;
  LeadershipEventsQueueUrl: string;
  [key: string]: string;
}

const requiredKeys: Array<keyof LeadershipStackOutputs> = [
  'HeartbeatFunctionName',
  'RegisterBrokerFunctionName',
  'CreateTopicFunctionName',
  'DescribeFunctionName',
  'ProduceFunctionName',
  'InitProducerIdFunctionName',
  'ConsumeFunctionName',
  'ControlledShutdownFunctionName',
  'ElectLeadersFunctionName',
  'BrokersTableName',
  'MetadataTableName',
  'LogTableName',
  'LeadershipEventsQueueUrl',
];

export function asLeadershipOutputs(stackName: string, outputs: Record<string, string> | undefined): LeadershipStackOutputs {
  if (!outputs) throw new Error(`Stack "${stackName}" has no outputs: was it deployed?`);
  const missing = requiredKeys.filter((key) => typeof outputs[key] !== 'string');
  if (missing.length > 0) throw new Error(`Stack "${stackName}" lacks outputs: ${missing.join(', ')}`);
  return outputs as LeadershipStackOutputs;
}

/** Reads a `cdk deploy --outputs-file` JSON file and picks one stack's outputs. */
export function readOutputsFile(file: string, stackName: string): LeadershipStackOutputs {
  let parsed: Record<string, Record<string, string>>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  } catch (error) {
    throw new Error(`Cannot read stack outputs from ${file} (deploy first, e.g. npm run deploy:localstack): ${(error as Error).message}`, {
      cause: error,
    });
  }
  return asLeadershipOutputs(stackName, parsed[stackName]);
}
