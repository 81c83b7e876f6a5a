/** FunctionSpecs for the fixture handlers in this directory, for tests and benchmarks that register them directly. */
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from '../../types.js';
import { ACCOUNT_ID, REGION } from '../aws.js';

const codeDir = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));
/** One export per runtime behaviour under test (see basic/index.mjs). */
export const BASIC_CODE_DIR = codeDir('basic');
/** A CommonJS bundle inside this "type": "module" project. */
export const COMMONJS_CODE_DIR = codeDir('commonjs');
/** Handlers of scripts/bench/runtime.ts. */
export const BENCH_CODE_DIR = codeDir('bench');
/** The BroadcastChannel on which bench/index.mjs reports stream deliveries. */
export const DELIVERY_CHANNEL = 'localcloud-bench-deliveries';

/** A function running `index.<exportName>` of the basic fixture, unless overridden. */
export function fixtureFunction(name: string, exportName: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    logicalId: `${name}Function`,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`,
    codeDir: BASIC_CODE_DIR,
    handler: `index.${exportName}`,
    runtime: 'nodejs20.x',
    environment: {},
    timeoutSeconds: 3,
    memoryMb: 128,
    ...overrides,
  };
}
