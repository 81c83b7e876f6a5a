import { describe, expect, it } from 'vitest';
import { MalformedItemError } from '../../../functions/adapters/dynamodb/index.js';
import { partitionFromItem, partitionItem } from '../../../functions/adapters/dynamodb/items.js';
import { LEADERSHIP_REASONS, PARTITION_STATES } from '../../../functions/domain/model.js';
import { aChange, aPartition } from '../../factories/entities.js';

describe('the partition item (metadata table)', () => {
  it.each(LEADERSHIP_REASONS)('reads back a last change of reason %s as written', (reason) => {
    const partition = aPartition({ lastChange: aChange({ reason }) });
    expect(partitionFromItem(partitionItem(partition))).toEqual(partition);
  });

  it.each(PARTITION_STATES)('reads back state %s as written', (state) => {
    const partition = aPartition({ state });
    expect(partitionFromItem(partitionItem(partition))).toEqual(partition);
  });

  it('refuses a reason it does not know, naming the field', () => {
    const item = partitionItem(aPartition());
    const bad = { ...item, lastChange: { ...(item.lastChange as object), reason: 'SOMETHING_ELSE' } };
    expect(() => partitionFromItem(bad)).toThrow(MalformedItemError);
    expect(() => partitionFromItem(bad)).toThrow('"reason"');
  });
});
