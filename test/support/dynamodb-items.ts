/**
 * A stored item as the SDK returns it, in the shape DynamoDB's item-size rules are computed on
 * by the usage meter (localcloud/billing: binaries as base64, as in stream events and the
 * wire), so a test can size a stored item as AWS bills it.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Item } from '../../localcloud/billing/dynamodb-billing.js';

export function eventShape(item: Record<string, AttributeValue>): Item {
  const convert = (value: AttributeValue): Record<string, unknown> => {
    if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
    if (value.L !== undefined) return { L: value.L.map(convert) };
    if (value.M !== undefined) return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, convert(v)])) };
    return value as unknown as Record<string, unknown>;
  };
  return Object.fromEntries(Object.entries(item).map(([name, value]): [string, Item[string]] => [name, convert(value)]));
}
