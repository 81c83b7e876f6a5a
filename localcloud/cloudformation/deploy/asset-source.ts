/**
 * Where a function's code asset comes from: the staged files of a cloud assembly
 * (cdk.out, keyed by the S3 object key the template names), or the S3 bucket the
 * CDK CLI uploaded it to (a CloudFormation API deployment has no cdk.out).
 */
import type { AssetIndex, FileAsset } from './assembly.js';
import type { CodeCache } from './code-cache.js';

export interface AssetSource {
  /** The staged asset for `Code.S3Bucket`/`Code.S3Key`, or undefined when there is none. */
  locate(bucket: string | undefined, key: string): Promise<FileAsset | undefined>;
  /** Where unpacked zips and inline code go; without one, the process's own private cache. */
  codeCache?: CodeCache;
}

export function assemblyAssets(index: AssetIndex, codeCache?: CodeCache): AssetSource {
  return { locate: (_bucket, key) => Promise.resolve(index.get(key)), codeCache };
}

export function isAssetSource(value: AssetIndex | AssetSource): value is AssetSource {
  return typeof (value as Partial<AssetSource>).locate === 'function';
}
