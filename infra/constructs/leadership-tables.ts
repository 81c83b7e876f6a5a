import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEADER_INDEX } from '../../functions/adapters/dynamodb/keys.js';

export interface LeadershipTablesProps {
  /**
   * Keep the Log and Metadata tables when the stack is deleted or a change replaces them
   * (RemovalPolicy RETAIN), and refuse their deletion by anyone (deletion protection).
   * False for throwaway stacks: they go with the stack. The Brokers table always goes.
   */
  readonly retainData: boolean;
}

/**
 * The three tables. `Table`, not `TableV2`: moto's CloudFormation does not know
 * AWS::DynamoDB::GlobalTable. No physical names, so several stacks can coexist (and a
 * retained table never blocks the next stack of the same name).
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
  /** Each table's secondary indexes, by name: the grants name them (no `index/*`). */
  readonly indexNames: Readonly<Record<'brokers' | 'metadata' | 'log', readonly string[]>> = {
    brokers: [],
    metadata: [LEADER_INDEX.indexName],
    log: [],
  };

  constructor(scope: Construct, id: string, props: LeadershipTablesProps) {
    super(scope, id);
    // Encryption at rest is DynamoDB's default (an AWS-owned key); a customer-managed KMS
    // key (key policy, CloudTrail of its use) is a choice for regulated data, not made here.
    const common = { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST };
    // Log is the only durable copy of the records, Metadata the only copy of topics,
    // leaders, ISRs and producer ids: restorable to any second of the last 35 days (PITR),
    // kept when the stack goes (unless throwaway), and not deletable by accident.
    const durable = {
      ...common,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retainData,
      removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    this.brokers = new dynamodb.Table(this, 'Brokers', {
      ...common,
      // Leases only: they expire within a session timeout and live brokers rewrite them
      // every heartbeat, so there is nothing to keep or restore.
      removalPolicy: RemovalPolicy.DESTROY,
      partitionKey: { name: 'brokerId', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });
    Validations.of(this.brokers).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'No point-in-time recovery for the Brokers table: it holds only heartbeat leases (TTL expiresAt) that lapse within a session timeout and are rewritten by live brokers every heartbeat; restoring old leases would revive dead brokers.',
    });
    this.metadata = new dynamodb.Table(this, 'Metadata', {
      ...durable,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    this.metadata.addGlobalSecondaryIndex({
      indexName: LEADER_INDEX.indexName,
      partitionKey: { name: LEADER_INDEX.keyAttribute, type: dynamodb.AttributeType.STRING },
      // Keys only: a projected partition would be rewritten in the index by every high-watermark move.
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.log = new dynamodb.Table(this, 'Log', {
      ...durable,
      partitionKey: { name: 'replica', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'offset', type: dynamodb.AttributeType.NUMBER },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
  }
}
