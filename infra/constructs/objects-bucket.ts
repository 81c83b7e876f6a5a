import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ObjectsBucketProps {
  /**
   * Keep the bucket when the stack is deleted or a change replaces it (RETAIN), as the Log
   * table is kept: the log items of diskless topics point into its objects, so one is no
   * use without the other. False for throwaway stacks: DESTROY, which CloudFormation can
   * only carry out on an empty bucket (no auto-delete custom resource: that is one more
   * function to run, and the local cloud runs none); empty it first (docs/deploy.md).
   */
  readonly retainData: boolean;
}

/**
 * The diskless topics' record bytes: one object per produce call, written once, read by
 * byte ranges, deleted only by the orphan sweep (functions/adapters/s3/object-store.ts).
 * Private (every public access blocked, TLS only), encrypted with S3-managed keys,
 * unversioned (an object is never overwritten, and a deleted orphan must not linger as a
 * noncurrent version that still costs storage). No physical name, so several stacks can
 * coexist and a retained bucket never blocks the next stack of the same name.
 */
export class ObjectsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ObjectsBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs for the diskless objects bucket: only the stack\'s own functions reach it (no principal outside the stack is granted anything, every public access is blocked), and a log line per produce, consume and replication read would cost more than the objects themselves (access logs are billed as the PUTs to the log bucket and its storage). CloudTrail data events are the audit trail to switch on when one is required.',
    });
  }
}
