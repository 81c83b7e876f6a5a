import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEADER_INDEX } from '../../functions/adapters/dynamodb/keys.js';

export interface LeadershipTablesProps {
  /**
   * What happens to the tables when the stack is deleted.
   * @default RemovalPolicy.DESTROY (the data is a demo's; set RETAIN for anything real)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The three tables. `Table`, not `TableV2`: moto's CloudFormation does not know
 * AWS::DynamoDB::GlobalTable. No physical names, so several stacks can coexist.
 */
export class LeadershipTables extends Construct {
  /**
   * Heartbeats: one item per broker (`brokerId`), `expiresAt` (epoch seconds) as
   * TTL. NEW_AND_OLD_IMAGES: a REMOVE must carry the old image (incarnation,
   * deadline) for the failure detector to act on.
   */
  readonly brokers: dynamodb.Table;
  /**
   * Topics, partitions and replica states under `pk` = `topic#<topic>`,
   * `sk` = `config` | `partition#<000001>` | `replica#<000001>#<brokerId>`. No stream.
   */
  readonly metadata: dynamodb.Table;
  /**
   * The partition logs: `replica` = `<topic>#<partition>#<brokerId>`, `offset` (N).
   * NEW_IMAGE stream: leader appends drive replication.
   */
  readonly log: dynamodb.Table;

  constructor(scope: Construct, id: string, props: LeadershipTablesProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    };
    this.brokers = new dynamodb.Table(this, 'Brokers', {
      ...common,
      partitionKey: { name: 'brokerId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    this.metadata = new dynamodb.Table(this, 'Metadata', {
      ...common,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    this.metadata.addGlobalSecondaryIndex({
      indexName: LEADER_INDEX.indexName,
      partitionKey: { name: LEADER_INDEX.keyAttribute, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.log = new dynamodb.Table(this, 'Log', {
      ...common,
      partitionKey: { name: 'replica', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'offset', type: dynamodb.AttributeType.NUMBER },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
  }
}
