import { readFileSync } from 'node:fs';
import { STACK_OUTPUT_NAMES, type LeadershipStackOutputs } from '../protocol/functions.js';

export type { LeadershipStackOutputs } from '../protocol/functions.js';

/** The stack's outputs, checked to hold every one the protocol derives from the functions, tables and queue. */
export function asLeadershipOutputs(stackName: string, outputs: Record<string, string> | undefined): LeadershipStackOutputs {
  if (!outputs) throw new Error(`Stack "${stackName}" has no outputs: was it deployed?`);
  const missing = STACK_OUTPUT_NAMES.filter((key) => typeof outputs[key] !== 'string');
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
