/**
 * DynamoDB Time to Live, promptly. Every period, each registered table is scanned for
 * items whose TTL attribute (epoch seconds) is in the past, and each is deleted on
 * condition that the attribute still holds the value seen — a concurrent renewal wins.
 * The deletes reach the table's stream as REMOVE records with OldImage, like real TTL
 * deletes (minus AWS's userIdentity {type: "Service"}; LocalStack omits it as well).
 *
 * DynamoDB Local runs a TTL deletion job of its own on tables with TTL enabled; either
 * may delete an expired item first, and the condition makes the loser a no-op.
 *
 * Real DynamoDB deletes lazily (minutes to days late); here it is prompt, so code
 * must still treat `expiresAt < now` as expired on its own, never wait for the delete.
 */
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { isAwsError, localClientConfig } from '../shared/aws-clients.js';
import { createLogger } from '../shared/log.js';
import type { TtlSpec } from '../types.js';

const DEFAULT_PERIOD_MS = 1000;

export class TtlReaper {
  private readonly specs = new Map<string, TtlSpec>();
  private readonly keyAttributes = new Map<string, string[]>();
  private readonly dynamodb: DynamoDBClient;
  private readonly periodMs: number;
  private readonly log = createLogger('ttl');
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Sweeps are chained so that the loop and sweepOnce() never overlap. */
  private lastSweep: Promise<number> = Promise.resolve(0);

  constructor(opts: { awsEndpoint: string; region: string; periodMs?: number }) {
    this.dynamodb = new DynamoDBClient(localClientConfig(opts));
    this.periodMs = opts.periodMs ?? DEFAULT_PERIOD_MS;
  }

  /** Registers (or re-points) a table's TTL attribute. */
  add(spec: TtlSpec): void {
    this.specs.set(spec.tableName, { ...spec });
    this.keyAttributes.delete(spec.tableName);
  }

  /** The registered tables and their TTL attributes. */
  registered(): TtlSpec[] {
    return [...this.specs.values()].map((spec) => ({ ...spec }));
  }

  /** Forgets a table (deleted with its stack). */
  remove(tableName: string): void {
    this.specs.delete(tableName);
    this.keyAttributes.delete(tableName);
  }

  /** Starts the periodic sweep; a period of 0 or less disables it (sweepOnce still works). */
  start(): void {
    if (this.running || this.periodMs <= 0) return;
    this.running = true;
    this.scheduleNext();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.lastSweep;
  }

  /** One sweep of every registered table; resolves to the number of items deleted. Never rejects. */
  sweepOnce(): Promise<number> {
    const sweep = this.lastSweep.then(() => this.sweepAll());
    this.lastSweep = sweep;
    return sweep;
  }

  private scheduleNext(): void {
    // A timeout per sweep, not an interval: a slow sweep delays the next one instead of piling up.
    this.timer = setTimeout(() => {
      void this.sweepOnce().finally(() => {
        if (this.running) this.scheduleNext();
      });
    }, this.periodMs);
    this.timer.unref();
  }

  private async sweepAll(): Promise<number> {
    let deleted = 0;
    for (const spec of [...this.specs.values()]) {
      try {
        deleted += await this.sweepTable(spec);
      } catch (err) {
        if (isAwsError(err, 'ResourceNotFoundException')) this.keyAttributes.delete(spec.tableName);
        this.log.error(`TTL sweep of ${spec.tableName} failed`, err);
      }
    }
    return deleted;
  }

  private async keysOf(tableName: string): Promise<string[]> {
    const cached = this.keyAttributes.get(tableName);
    if (cached) return cached;
    const { Table } = await this.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const keys = (Table?.KeySchema ?? []).map((k) => k.AttributeName).filter((n): n is string => n !== undefined);
    this.keyAttributes.set(tableName, keys);
    return keys;
  }

  private async sweepTable({ tableName, attributeName }: TtlSpec): Promise<number> {
    const keys = await this.keysOf(tableName);
    const nowSeconds = Date.now() / 1000;
    const names: Record<string, string> = { '#ttl': attributeName };
    keys.forEach((key, i) => (names[`#k${i}`] = key));
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({
          TableName: tableName,
          // No FilterExpression: moto answers HTTP 500 when `#ttl < :now` meets a non-numeric
          // attribute; the expiry check is done here instead (deleteIfStillExpired).
          ProjectionExpression: Object.keys(names).join(', '),
          ExpressionAttributeNames: names,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (await this.deleteIfStillExpired(tableName, keys, attributeName, item, nowSeconds)) deleted += 1;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (deleted > 0) this.log.debug(`${tableName}: ${deleted} expired items deleted`);
    return deleted;
  }

  private async deleteIfStillExpired(
    tableName: string,
    keys: string[],
    attributeName: string,
    item: Record<string, AttributeValue>,
    nowSeconds: number,
  ): Promise<boolean> {
    // Only a number is a TTL: items whose attribute is missing or not numeric never expire, as on AWS.
    const seen = item[attributeName]?.N;
    if (seen === undefined || !(Number(seen) < nowSeconds)) return false;
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: Object.fromEntries(keys.map((key) => [key, item[key]])),
          ConditionExpression: '#ttl = :seen',
          ExpressionAttributeNames: { '#ttl': attributeName },
          ExpressionAttributeValues: { ':seen': { N: seen } },
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false; // renewed or already gone
      throw err;
    }
  }
}
