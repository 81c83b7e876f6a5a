/**
 * What the CloudFormation service reads from S3 (moto, behind the edge): templates named
 * by TemplateURL and the Lambda code assets the CDK CLI uploaded to the bootstrap bucket.
 */
import type { FileAsset } from './deploy/assembly.js';
import type { AssetSource } from './deploy/asset-source.js';
import type { CodeCache } from './deploy/code-cache.js';
import { errorCodeOf, rawAwsRequest } from '../shared/raw-aws.js';
import { validationError } from './query.js';

export interface S3Location {
  bucket: string;
  key: string;
}

export async function getObject(endpoint: string, region: string, location: S3Location): Promise<Buffer | undefined> {
  const objectPath = `/${location.bucket}/${location.key.split('/').map(encodeURIComponent).join('/')}`;
  const response = await rawAwsRequest(endpoint, { service: 's3', region, method: 'GET', path: objectPath });
  if (response.status === 404) return undefined;
  if (response.status >= 300) {
    throw new Error(`S3 GetObject s3://${location.bucket}/${location.key}: HTTP ${response.status} ${errorCodeOf(response.body)}`);
  }
  return response.body;
}

/**
 * The bucket and key of a TemplateURL: path style (`http://localhost:4566/bucket/key`,
 * what the CDK CLI sends to a custom endpoint, `https://s3.region.amazonaws.com/bucket/key`)
 * or virtual-hosted (`https://bucket.s3.region.amazonaws.com/key`).
 */
export function parseTemplateUrl(templateUrl: string): S3Location {
  let url: URL;
  try {
    url = new URL(templateUrl);
  } catch {
    throw validationError(`TemplateURL must be a supported URL: ${templateUrl}`);
  }
  const parts = url.pathname.split('/').filter((part) => part !== '').map(decodeURIComponent);
  const virtualHost = /^(.+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$/.exec(url.hostname);
  if (virtualHost && parts.length >= 1) return { bucket: virtualHost[1], key: parts.join('/') };
  if (parts.length >= 2) return { bucket: parts[0], key: parts.slice(1).join('/') };
  throw validationError(`TemplateURL must name a bucket and a key: ${templateUrl}`);
}

/**
 * Code assets from the bucket, downloaded afresh by each deployment (an object may have
 * changed under its key) into the code cache, under the hash of their bytes.
 */
export function s3AssetSource(endpoint: string, region: string, codeCache: CodeCache): AssetSource {
  // Functions of one deployment that share an asset share its download.
  const downloads = new Map<string, Promise<FileAsset | undefined>>();
  const download = async (bucket: string, key: string): Promise<FileAsset | undefined> => {
    const body = await getObject(endpoint, region, { bucket, key });
    if (body === undefined) return undefined;
    const zip = key.endsWith('.zip');
    return { path: codeCache.storeObject(body, zip ? '.zip' : ''), packaging: zip ? 'zip' : 'file' };
  };
  return {
    codeCache,
    locate(bucket, key): Promise<FileAsset | undefined> {
      if (bucket === undefined) return Promise.resolve(undefined);
      const id = `${bucket}/${key}`;
      let found = downloads.get(id);
      if (!found) {
        found = download(bucket, key);
        downloads.set(id, found);
      }
      return found;
    },
  };
}
