/**
 * AWS::S3::Bucket → a moto bucket: the CDK bootstrap stack's staging bucket, which the
 * CDK CLI then uploads assets to, and a stack's own buckets (this project's diskless
 * objects). Properties beyond the name (encryption, versioning, lifecycle, public access
 * block) are control plane only here and not applied; so is a bucket policy (ignored).
 */
import { errorCodeOf, rawAwsRequest } from '../../../shared/raw-aws.js';
import { physicalName } from '../physical-name.js';
import { describeResource, type ResourceProvisioner } from './types.js';

const BUCKET_NAME_MAX = 63;

export const s3Bucket: ResourceProvisioner = {
  async provision(ctx) {
    const { target } = ctx;
    const name = ctx.props.optString('BucketName') ?? physicalName(ctx.stackName, ctx.logicalId, BUCKET_NAME_MAX).toLowerCase();
    const response = await rawAwsRequest(target.awsEndpoint, { service: 's3', region: target.region, method: 'PUT', path: `/${name}` });
    // A redeploy finds its own bucket: moto answers BucketAlreadyOwnedByYou (or 200, as us-east-1 does).
    if (response.status >= 300 && errorCodeOf(response.body) !== 'BucketAlreadyOwnedByYou') {
      throw new Error(`${describeResource(ctx)}: CreateBucket ${name}: HTTP ${response.status} ${errorCodeOf(response.body)}`);
    }
    const host = `${name}.s3.${target.region}.amazonaws.com`;
    return {
      physicalId: name,
      attributes: {
        Arn: `arn:${ctx.partition}:s3:::${name}`,
        DomainName: `${name}.s3.amazonaws.com`,
        RegionalDomainName: host,
        WebsiteURL: `http://${name}.s3-website-${target.region}.amazonaws.com`,
      },
    };
  },
  async delete(ctx) {
    const { target } = ctx;
    const response = await rawAwsRequest(target.awsEndpoint, { service: 's3', region: target.region, method: 'DELETE', path: `/${ctx.physicalId}` });
    // As on AWS, a bucket that still holds objects cannot be deleted (BucketNotEmpty fails the delete).
    if (response.status >= 300 && errorCodeOf(response.body) !== 'NoSuchBucket') {
      throw new Error(`DeleteBucket ${ctx.physicalId}: HTTP ${response.status} ${errorCodeOf(response.body)}`);
    }
  },
};
