/**
 * The edge's side of usage metering: bills each DynamoDB answer (its ConsumedCapacity plus
 * dynamodb-billing.ts's corrections) and counts the SQS and S3 requests it passes to moto.
 */
import type { IncomingMessage } from 'node:http';
import {
  itemSize,
  memberWriteUnits,
  writeUnitsFor,
  type BillingPlan,
  type Item,
  type TransactionMember,
  wasRefusedByCondition,
} from './dynamodb-billing.js';
import { chargesOf, type CapacityCharge, type ConsumedCapacity, type UsageMeter } from './usage-meter.js';

const METER_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=usagemeter/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

/**
 * Reads an item's current size straight from the data plane (not through the edge: those
 * reads are the meter's, not billed). A Put names its item, not its key: the table's key
 * schema, read once per table, picks the key out.
 */
export class ItemSizer {
  private readonly keyNames = new Map<string, Promise<string[]>>();

  constructor(private readonly dynamodbEndpoint: string) {}

  private async call(operation: string, request: unknown): Promise<Response> {
    return fetch(this.dynamodbEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}`, authorization: METER_AUTHORIZATION },
      body: JSON.stringify(request),
    });
  }

  async size(table: string, key: Item): Promise<number> {
    const response = await this.call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    if (!response.ok) return 0;
    const answer = (await response.json()) as { Item?: Item };
    return answer.Item ? itemSize(answer.Item) : 0;
  }

  /** The size a transaction member's item has now: 0 if there is none. */
  async sizeBefore(member: TransactionMember): Promise<number> {
    const key = member.key ?? (member.put ? await this.keyOf(member.table, member.put) : undefined);
    return key ? this.size(member.table, key).catch(() => 0) : 0;
  }

  private async keyOf(table: string, item: Item): Promise<Item | undefined> {
    let names = this.keyNames.get(table);
    if (!names) {
      names = this.call('DescribeTable', { TableName: table }).then(async (response) => {
        if (!response.ok) throw new Error(`DescribeTable ${table} answered ${response.status}`);
        const { Table } = (await response.json()) as { Table?: { KeySchema?: Array<{ AttributeName: string }> } };
        return (Table?.KeySchema ?? []).map((element) => element.AttributeName);
      });
      this.keyNames.set(table, names);
    }
    try {
      return Object.fromEntries((await names).map((name) => [name, item[name] ?? {}]));
    } catch {
      this.keyNames.delete(table); // a table not there yet: ask again next time
      return undefined;
    }
  }
}

export interface MeteredAnswer {
  caller: string;
  operation: string;
  plan: BillingPlan;
  /** Sizes of the transaction's members' items before it ran, in plan order. */
  sizesBefore: number[];
  status: number;
  answer: Buffer;
}

/** Bills one answer; the edge holds the answer until this is done, so a caller never outruns its own bill. */
export async function billAnswer(meter: UsageMeter, sizer: ItemSizer, metered: MeteredAnswer): Promise<void> {
  const { caller, operation, plan, status, answer } = metered;
  if (status === 200) {
    let consumed: ConsumedCapacity | ConsumedCapacity[] | undefined;
    try {
      consumed = (JSON.parse(answer.toString('utf8')) as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
    } catch {
      consumed = undefined;
    }
    const charges = chargesOf(operation, consumed, plan.statementWrites);
    meter.recordDynamoDb(caller, operation, plan.transaction.length > 0 ? await billMembers(sizer, plan.transaction, metered.sizesBefore, charges) : charges);
    return;
  }
  if (!wasRefusedByCondition(status, answer)) {
    meter.recordDynamoDb(caller, operation, []);
    return;
  }
  // A refused write is billed as the write it would have been: AWS does not say how a
  // cancelled transaction is billed item by item, so each of its items counts, unchanged.
  const units =
    plan.transaction.length > 0
      ? plan.transaction.map((member, index) => memberWriteUnits(metered.sizesBefore[index] ?? 0, member.put ? itemSize(member.put) : 0))
      : [
          ...plan.ifRefused.puts.map((put) => writeUnitsFor(itemSize(put.item))),
          ...(await Promise.all(plan.ifRefused.keyed.map(async (keyed) => writeUnitsFor(await sizer.size(keyed.table, keyed.key).catch(() => 0))))),
        ];
  meter.recordDynamoDb(caller, operation, [], { items: units.length, writeUnits: units.reduce((sum, unit) => sum + unit, 0) });
}

/**
 * A committed transaction's charges: each member's item rounded up on its own, in place of
 * the data plane's table units (which round the members' sum); its index units are kept.
 */
async function billMembers(sizer: ItemSizer, members: TransactionMember[], sizesBefore: number[], charges: CapacityCharge[]): Promise<CapacityCharge[]> {
  const sizesAfter = await Promise.all(
    members.map(async (member) => {
      if (member.put) return itemSize(member.put);
      return member.kind === 'Update' && member.key ? sizer.size(member.table, member.key).catch(() => 0) : 0;
    }),
  );
  const byTable = new Map<string, CapacityCharge>();
  for (const charge of charges) byTable.set(charge.table, { ...charge, writeUnits: charge.indexWriteUnits });
  members.forEach((member, index) => {
    let charge = byTable.get(member.table);
    if (!charge) {
      charge = { table: member.table, readUnits: 0, writeUnits: 0, indexReadUnits: 0, indexWriteUnits: 0 };
      byTable.set(member.table, charge);
    }
    charge.writeUnits += memberWriteUnits(sizesBefore[index] ?? 0, sizesAfter[index] ?? 0);
  });
  return [...byTable.values()];
}

/** The AWS service a SigV4-signed request names in its credential scope (`.../us-east-1/sqs/aws4_request`). */
function signedService(headers: IncomingMessage['headers']): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  return /Credential=[^/,\s]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization)?.[1];
}

/** Counts an SQS or S3 request on its way to moto; other services are not billed per request here. */
export function meterMotoRequest(meter: UsageMeter, caller: string, method: string, url: URL, headers: IncomingMessage['headers']): void {
  const bytes = Number(headers['content-length'] ?? 0) || 0;
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    meter.recordSqs(target.slice('AmazonSQS.'.length), bytes);
    return;
  }
  const service = signedService(headers);
  if (service === 'sqs') {
    meter.recordSqs(url.searchParams.get('Action') ?? 'unknown', bytes);
    return;
  }
  if (service === 's3') {
    // S3 does not bill DELETE requests (its pricing page: "DELETE and CANCEL requests are free").
    if (method === 'DELETE') return;
    const objectKey = url.pathname.split('/').slice(2).join('/');
    // A GET of a bucket (no object key) is a LIST, billed at the first tier.
    const tier1 = method === 'PUT' || method === 'POST' || method === 'COPY' || (method === 'GET' && objectKey === '');
    meter.recordS3(caller, tier1 ? 1 : 2, bytes);
  }
}
