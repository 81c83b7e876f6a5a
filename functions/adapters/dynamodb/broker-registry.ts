/**
 * BrokerRegistry over the heartbeat table (key `brokerId`, TTL `expiresAt`).
 * Every lease transition is one conditional write on the broker's item, so two
 * racing heartbeats / sweeps of the same broker can never both win.
 *
 * A listing skips items it cannot read and reports them: every heartbeat sweeps
 * by listing the whole table, so one bad row must not stop every broker's heartbeat,
 * describe and topic creation. A get of the bad row itself still fails.
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
import { MalformedItemError, heartbeatFromItem, heartbeatItem, type Item } from './items.js';
import { reportMalformedBrokerItems, type MalformedItem } from '../../logger.js';

/** Told of the items a listing left out, once per listing that left any out. */
export type MalformedItemsReporter = (table: string, items: readonly MalformedItem[]) => void;

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
    private readonly reportMalformed: MalformedItemsReporter = reportMalformedBrokerItems,
  ) {}

  async get(brokerId: BrokerId): Promise<BrokerHeartbeat | null> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { brokerId }, ConsistentRead: true }),
    );
    return Item ? heartbeatFromItem(Item) : null;
  }

  async list(): Promise<BrokerHeartbeat[]> {
    const heartbeats: BrokerHeartbeat[] = [];
    const malformed: MalformedItem[] = [];
    for await (const page of paginateScan({ client: this.client }, { TableName: this.tableName, ConsistentRead: true })) {
      for (const item of page.Items ?? []) {
        try {
          heartbeats.push(heartbeatFromItem(item));
        } catch (error) {
          if (!(error instanceof MalformedItemError)) throw error;
          malformed.push({ key: keyOf(item), reason: error.message });
        }
      }
    }
    if (malformed.length > 0) this.reportMalformed(this.tableName, malformed);
    return heartbeats;
  }

  async renew(next: BrokerHeartbeat, now: number): Promise<boolean> {
    return this.putIf(next, allOf(liveLeaseOf(next.incarnation, now), shuttingDownIs(next.shuttingDown === true)));
  }

  async register(next: BrokerHeartbeat, previous: BrokerHeartbeat | null, now: number): Promise<boolean> {
    return this.putIf(next, previous === null ? brokerAbsent : lapsedLeaseOf(previous.incarnation, now));
  }

  async deleteIfExpired(brokerId: BrokerId, incarnation: number, now: number): Promise<boolean> {
    const outcome = await conditionally(() =>
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { brokerId }, ...guardedBy(lapsedLeaseOf(incarnation, now)) }),
      ),
    );
    return outcome.held;
  }

  async markShuttingDown(brokerId: BrokerId, incarnation: number): Promise<boolean> {
    const outcome = await conditionally(() =>
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
    const outcome = await conditionally(() =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { brokerId }, ...guardedBy(incarnationIs(incarnation)) })),
    );
    return outcome.held;
  }

  private async putIf(heartbeat: BrokerHeartbeat, condition: Condition): Promise<boolean> {
    const outcome = await conditionally(() =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: heartbeatItem(heartbeat), ...guardedBy(condition) })),
    );
    return outcome.held;
  }
}

/** The item's key for a report; the key attribute itself may be what is wrong. */
const keyOf = (item: Item): string => (typeof item.brokerId === 'string' ? item.brokerId : `brokerId ${JSON.stringify(item.brokerId) ?? 'absent'}`);
