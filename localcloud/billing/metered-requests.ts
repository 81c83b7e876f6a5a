/**
 * The edge's side of usage metering: bills each DynamoDB answer (its ConsumedCapacity plus
 * dynamodb-billing.ts's corrections) and counts the SQS and S3 requests it passes to moto.
 */
import type { IncomingMessage } from 'node:http';
import { itemSize, writeUnitsFor, type BillingPlan, type Item, wasRefusedByCondition } from './dynamodb-billing.js';
import { chargesOf, type ConsumedCapacity, type UsageMeter } from './usage-meter.js';

/** Reads an item's current size straight from the data plane (not through the edge: that read is the meter's, not billed). */
export class ItemSizer {
  constructor(private readonly dynamodbEndpoint: string) {}

  async size(table: string, key: Item): Promise<number> {
    const response = await fetch(this.dynamodbEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        authorization: 'AWS4-HMAC-SHA256 Credential=usagemeter/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ TableName: table, Key: key, ConsistentRead: true }),
    });
    if (!response.ok) return 0;
    const answer = (await response.json()) as { Item?: Item };
    return answer.Item ? itemSize(answer.Item) : 0;
  }
}

export interface MeteredAnswer {
  caller: string;
  operation: string;
  plan: BillingPlan;
  /** Write units of the transaction's ConditionChecks, sized before it ran. */
  checkUnits: number[];
  status: number;
  answer: Buffer;
}

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
    plan.conditionChecks.forEach((check, index) =>
      charges.push({ table: check.table, readUnits: 0, writeUnits: metered.checkUnits[index] ?? 0, indexReadUnits: 0, indexWriteUnits: 0 }),
    );
    meter.recordDynamoDb(caller, operation, charges);
    return;
  }
  if (!wasRefusedByCondition(status, answer)) {
    meter.recordDynamoDb(caller, operation, []);
    return;
  }
  // A refused write is billed as the write it would have been: AWS does not say how a
  // cancelled transaction is billed item by item, so each of its items counts.
  const putUnits = plan.ifRefused.puts.map((put) => (put.transactional ? 2 : 1) * writeUnitsFor(itemSize(put.item)));
  const keyedUnits = await Promise.all(
    plan.ifRefused.keyed.map(async (keyed) => (keyed.transactional ? 2 : 1) * writeUnitsFor(await sizer.size(keyed.table, keyed.key).catch(() => 0))),
  );
  const units = [...putUnits, ...keyedUnits];
  meter.recordDynamoDb(caller, operation, [], { items: units.length, writeUnits: units.reduce((sum, unit) => sum + unit, 0) });
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
