/**
 * DynamoDB's billing rules where the data plane's ConsumedCapacity falls short of AWS:
 * DynamoDB Local adds up a TransactWriteItems' item sizes before rounding to the KB and
 * reports nothing for its ConditionChecks, where AWS bills "two underlying reads or writes of
 * every item in the transaction", each item rounded up on its own (a Put or an Update on the
 * larger of the item before and after, a Delete or a ConditionCheck on the item as it stood);
 * and it reports nothing for a write its condition refused (AWS bills a failed conditional
 * write too). The edge sizes those items by DynamoDB's documented item-size rules.
 */

/** A DynamoDB JSON attribute value (`{"S": "x"}`, `{"M": {...}}`, ...). */
export type AttributeValue = Record<string, unknown>;
export type Item = Record<string, AttributeValue>;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * A number's size: about one byte per two significant digits, plus one (leading and
 * trailing zeros are not stored).
 */
export function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** A value's size by DynamoDB's rules: strings and binaries by their bytes, lists and maps 3 bytes plus 1 per element. */
export function valueSize(value: AttributeValue): number {
  const [type, content] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8Bytes(String(content));
    case 'N':
      return numberSize(String(content));
    case 'B':
      return Buffer.from(String(content), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (content as string[]).reduce((sum, element) => sum + utf8Bytes(element), 0);
    case 'NS':
      return (content as string[]).reduce((sum, element) => sum + numberSize(element), 0);
    case 'BS':
      return (content as string[]).reduce((sum, element) => sum + Buffer.from(element, 'base64').length, 0);
    case 'L':
      return 3 + (content as AttributeValue[]).reduce((sum, element) => sum + 1 + valueSize(element), 0);
    case 'M':
      return 3 + Object.entries(content as Item).reduce((sum, [name, element]) => sum + 1 + utf8Bytes(name) + valueSize(element), 0);
    default:
      throw new Error(`unknown DynamoDB attribute type ${JSON.stringify(type)}`);
  }
}

/** An item's size: each attribute's name bytes plus its value's size. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8Bytes(name) + valueSize(value);
  return size;
}

/** Write units for an item of this size: one per KB started, at least one. */
export const writeUnitsFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** Operations that answer ConsumedCapacity when asked. */
export const CAPACITY_OPERATIONS: ReadonlySet<string> = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

/** An item a refused write names: sized after the fact by reading it. */
export interface KeyedItem {
  table: string;
  key: Item;
}

/**
 * One member of a TransactWriteItems, billed on its own. `key` names the item to size before
 * the transaction runs (absent for a Put: the edge finds it from the item and the table's key
 * schema); `put` is the item a Put writes.
 */
export interface TransactionMember {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  table: string;
  key?: Item;
  put?: Item;
}

/** What the edge must know of one request to bill it as AWS would. */
export interface BillingPlan {
  /** The request to forward: ReturnConsumedCapacity set to INDEXES. */
  body: Buffer;
  /** A TransactWriteItems' members, which the edge bills item by item instead of the data plane's table units. */
  transaction: TransactionMember[];
  /** What to bill if the data plane refuses a single-item write for its condition. */
  ifRefused: { puts: Array<{ table: string; item: Item }>; keyed: KeyedItem[] };
  /** PartiQL statements that write (their capacity is reported without saying read or write). */
  statementWrites: boolean;
}

/** Transactions bill every item twice: "two underlying reads or writes". */
export const TRANSACTION_FACTOR = 2;

/**
 * A transaction member's write units, from the item's size before the transaction and after
 * it (0 where there is no item): the larger of the two, rounded up to the KB on its own.
 */
export const memberWriteUnits = (before: number, after: number): number => TRANSACTION_FACTOR * writeUnitsFor(Math.max(before, after));

interface TransactWriteEntry {
  Put?: { TableName: string; Item: Item };
  Update?: { TableName: string; Key: Item };
  Delete?: { TableName: string; Key: Item };
  ConditionCheck?: { TableName: string; Key: Item };
}

/** Reads the request, asks for ConsumedCapacity, and notes what the answer will not bill. */
export function planBilling(operation: string, raw: Buffer): BillingPlan | undefined {
  if (!CAPACITY_OPERATIONS.has(operation)) return undefined;
  let request: Record<string, unknown>;
  try {
    request = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // DynamoDB Local answers the malformed request itself
  }
  const plan: BillingPlan = {
    body: Buffer.from(JSON.stringify({ ...request, ReturnConsumedCapacity: 'INDEXES' })),
    transaction: [],
    ifRefused: { puts: [], keyed: [] },
    statementWrites: false,
  };
  const table = typeof request.TableName === 'string' ? request.TableName : 'unknown';
  if (operation === 'PutItem' && request.ConditionExpression !== undefined) {
    plan.ifRefused.puts.push({ table, item: request.Item as Item });
  }
  if ((operation === 'UpdateItem' || operation === 'DeleteItem') && request.ConditionExpression !== undefined) {
    plan.ifRefused.keyed.push({ table, key: request.Key as Item });
  }
  if (operation === 'TransactWriteItems') {
    for (const entry of (request.TransactItems ?? []) as TransactWriteEntry[]) {
      if (entry.Put) plan.transaction.push({ kind: 'Put', table: entry.Put.TableName, put: entry.Put.Item });
      for (const kind of ['Update', 'Delete', 'ConditionCheck'] as const) {
        const keyed = entry[kind];
        if (keyed) plan.transaction.push({ kind, table: keyed.TableName, key: keyed.Key });
      }
    }
  }
  if (operation === 'ExecuteStatement' || operation === 'BatchExecuteStatement' || operation === 'ExecuteTransaction') {
    const statements = [request.Statement, ...((request.Statements ?? request.TransactStatements ?? []) as Array<{ Statement?: unknown }>).map((s) => s.Statement)];
    plan.statementWrites = statements.some((statement) => typeof statement === 'string' && /^\s*(INSERT|UPDATE|DELETE)\b/i.test(statement));
  }
  return plan;
}

/** True when the answer says the write's condition (or a transaction member's) refused it. */
export function wasRefusedByCondition(status: number, answer: Buffer): boolean {
  if (status !== 400) return false;
  const text = answer.toString('utf8', 0, Math.min(answer.length, 512));
  return text.includes('ConditionalCheckFailedException') || text.includes('TransactionCanceledException');
}
