import { describe, expect, it } from 'vitest';
import { MalformedItemError } from '../../../functions/adapters/dynamodb/index.js';
import { heartbeatFromItem, heartbeatItem, partitionFromItem, partitionItem } from '../../../functions/adapters/dynamodb/items.js';
import type { BrokerHeartbeat } from '../../../functions/domain/model.js';
import { aPartition } from '../../factories/entities.js';

describe('the partition item: KIP-966 fields', () => {
  it('reads back the ELR and the last known leader as written', () => {
    const partition = aPartition({ leader: null, state: 'OFFLINE', isr: [], elr: ['A', 'C'], lastKnownElr: ['A'] });
    expect(partitionFromItem(partitionItem(partition))).toEqual(partition);
  });

  it('reads an item written before eligible leader replicas as having none', () => {
    const { elr: _elr, lastKnownElr: _lastKnown, ...old } = partitionItem(aPartition());
    expect(partitionFromItem(old)).toMatchObject({ elr: [], lastKnownElr: [] });
  });

  it('refuses an ELR that is not a list of broker ids, naming it', () => {
    expect(() => partitionFromItem({ ...partitionItem(aPartition()), elr: 'A' })).toThrow(MalformedItemError);
    expect(() => partitionFromItem({ ...partitionItem(aPartition()), elr: 'A' })).toThrow('"elr"');
  });
});

describe('the heartbeat item: the controlled-shutdown mark', () => {
  const lease: BrokerHeartbeat = { brokerId: 'A', incarnation: 3, lastHeartbeatAt: 1_000, deadlineMs: 10_000, expiresAt: 10 };

  it('keeps the mark with its deadline', () => {
    const marked: BrokerHeartbeat = { ...lease, shuttingDown: true, shutdownDeadlineMs: 61_000 };
    expect(heartbeatFromItem(heartbeatItem(marked))).toEqual(marked);
    expect(heartbeatFromItem(heartbeatItem(lease))).toEqual(lease);
  });

  it('reads a mark written before marks had deadlines as a mark without one', () => {
    expect(heartbeatFromItem({ ...heartbeatItem(lease), shuttingDown: true })).toEqual({ ...lease, shuttingDown: true });
  });
});
