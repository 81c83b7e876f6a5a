/**
 * The producer state on a replica's ReplicaState item: runs carry their producer epoch and
 * the time of their last record, and items written before they did still read.
 */
import { describe, expect, it } from 'vitest';
import { replicaStateFromItem, replicaStateItem } from '../../../functions/adapters/dynamodb/items.js';
import type { ReplicaState } from '../../../functions/domain/model.js';

const state: ReplicaState = {
  topic: 'orders',
  partition: 1,
  brokerId: 'A',
  logEndOffset: 3,
  matchedEpoch: 2,
  updatedAt: 5,
  producers: {
    '7': {
      producerEpoch: 1,
      lastAppendedAt: 40,
      runs: [
        { producerEpoch: 0, firstSequence: 0, firstOffset: 0, count: 1, lastAppendedAt: 30 },
        { producerEpoch: 1, firstSequence: 0, firstOffset: 1, count: 2, lastAppendedAt: 40 },
      ],
    },
  },
};

describe('replica state item', () => {
  it('keeps each run of every producer epoch', () => {
    expect(replicaStateFromItem(replicaStateItem(state))).toEqual(state);
  });

  it('reads runs stored without an epoch or time as the producer epoch and time of their state', () => {
    const item = replicaStateItem(state);
    item.producers = { '7': { producerEpoch: 1, lastAppendedAt: 40, runs: [{ firstSequence: 0, firstOffset: 1, count: 2 }] } };
    expect(replicaStateFromItem(item).producers).toEqual({
      '7': { producerEpoch: 1, lastAppendedAt: 40, runs: [{ producerEpoch: 1, firstSequence: 0, firstOffset: 1, count: 2, lastAppendedAt: 40 }] },
    });
  });
});
