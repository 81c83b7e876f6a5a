/**
 * BrokerRegistry over the heartbeat table (key `brokerId`, TTL `expiresAt`).
 * Every lease transition is one conditional write on the broker's item, so two
 * racing heartbeats / sweeps of the same broker can never both win.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { BrokerHeartbeat, BrokerId } from '../../domain/model.js';
import type { BrokerRegistry } from '../../ports/index.js';
import {
  allOf,
  guardedBy,
  guardedUpdate,
  incarnationIs,
  itemAbsent,
  leaseExpiredAt,
  leaseLiveAt,
  shuttingDownIs,
  type Condition,
} from './conditions.js';
import { conditionally } from './conditional-writes.js';
import { heartbeatFromItem, heartbeatItem } from './items.js';

/** The heartbeat item's own incarnation, still within its lease: a renewal must not resurrect a lapsed lease. */
const liveLeaseOf = (incarnation: number, now: number): Condition => allOf(incarnationIs(incarnation), leaseLiveAt(now));

/** Exactly the lapsed incarnation the caller saw: a newer registration or a renewal in between wins. */
const lapsedLeaseOf = (incarnation: number, now: number): Condition =>
  allOf(incarnationIs(incarnation), leaseExpiredAt(now));

const brokerAbsent = itemAbsent('brokerId', 'broker heartbeat');

export class DynamoBrokerRegistry implements BrokerRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(brokerId: BrokerId): Promise<BrokerHeartbeat | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { brokerId }, ConsistentRead: true }),
    );
    return Item ? heartbeatFromItem(Item) : null;
  }

  async list(): Promise<BrokerHeartbeat[]> {
    const heartbeats: BrokerHeartbeat[] = [];
    for await (const page of paginateScan({ client: this.client }, { TableName: this.tableName, ConsistentRead: true })) {
      heartbeats.push(...(page.Items ?? []).map(heartbeatFromItem));
    }
    return heartbeats;
  }

  async renew(next: BrokerHeartbeat, now: number): Promise<boolean> {
    return this.putIf(next, allOf(liveLeaseOf(next.incarnation, now), shuttingDownIs(next.shuttingDown === true)));
  }

  async register(next: BrokerHeartbeat, previous: BrokerHeartbeat | null, now: number): Promise<boolean> {
    return this.putIf(next, previous === null ? brokerAbsent : lapsedLeaseOf(previous.incarnation, now));
  }

  async deleteIfExpired(brokerId: BrokerId, incarnation: number, now: number): Promise<boolean> {
    const outcome = await conditionally(
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { brokerId }, ...guardedBy(lapsedLeaseOf(incarnation, now)) }),
      ),
    );
    return outcome.held;
  }

  async markShuttingDown(brokerId: BrokerId, incarnation: number): Promise<boolean> {
    const outcome = await conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { brokerId },
          ...guardedUpdate({ shuttingDown: true }, incarnationIs(incarnation)),
        }),
      ),
    );
    return outcome.held;
  }

  async deregister(brokerId: BrokerId, incarnation: number): Promise<boolean> {
    const outcome = await conditionally(
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { brokerId }, ...guardedBy(incarnationIs(incarnation)) })),
    );
    return outcome.held;
  }

  private async putIf(heartbeat: BrokerHeartbeat, condition: Condition): Promise<boolean> {
    const outcome = await conditionally(
      this.client.send(new PutCommand({ TableName: this.tableName, Item: heartbeatItem(heartbeat), ...guardedBy(condition) })),
    );
    return outcome.held;
  }
}
