/**
 * Where a function's code asset comes from: the staged files of a cloud assembly
 * (cdk.out, keyed by the S3 object key the template names), or the S3 bucket the
 * CDK CLI uploaded it to (a CloudFormation API deployment has no cdk.out).
 */
import type { AssetIndex, FileAsset } from './assembly.js';

export interface AssetSource {
  /** The staged asset for `Code.S3Bucket`/`Code.S3Key`, or undefined when there is none. */
  locate(bucket: string | undefined, key: string): Promise<FileAsset | undefined>;
}

export function assemblyAssets(index: AssetIndex): AssetSource {
  return { locate: (_bucket, key) => Promise.resolve(index.get(key)) };
}

export function isAssetSource(value: AssetIndex | AssetSource): value is AssetSource {
  return typeof (value as Partial<AssetSource>).locate === 'function';
}
