import { describe, expect, it } from 'vitest';
import {
  ASSIGNOR_NAMES,
  CONSUMER_PROTOCOL_VERSION,
  ConsumerProtocolError,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../protocol/consumer-protocol.js';

describe('the consumer protocol codec', () => {
  it('round-trips a subscription and an assignment, versioned, partitions sorted', () => {
    const subscription = { topics: ['orders', 'payments'], ownedPartitions: [{ topic: 'orders', partitions: [3, 1] }], userData: '4' };
    expect(decodeSubscription(encodeSubscription(subscription))).toEqual({
      version: CONSUMER_PROTOCOL_VERSION,
      topics: ['orders', 'payments'],
      ownedPartitions: [{ topic: 'orders', partitions: [1, 3] }],
      userData: '4',
    });
    expect(decodeAssignment(encodeAssignment({ partitions: [{ topic: 'orders', partitions: [2] }] }))).toEqual({
      version: CONSUMER_PROTOCOL_VERSION,
      partitions: [{ topic: 'orders', partitions: [2] }],
    });
  });

  it('reads "" as nothing (a member that offered no metadata, a member the leader gave nothing)', () => {
    expect(decodeSubscription('')).toEqual({ version: CONSUMER_PROTOCOL_VERSION, topics: [], ownedPartitions: [] });
    expect(decodeAssignment('')).toEqual({ version: CONSUMER_PROTOCOL_VERSION, partitions: [] });
  });

  it('reads a later version for the fields it knows, and a subscription without ownedPartitions as owning none', () => {
    expect(decodeSubscription(JSON.stringify({ version: 7, topics: ['t'], rackId: 'r1' }))).toEqual({ version: 7, topics: ['t'], ownedPartitions: [] });
  });

  it('refuses malformed text with an error naming the field', () => {
    const refusals: Array<[() => unknown, RegExp]> = [
      [() => decodeSubscription('{'), /subscription is not JSON/],
      [() => decodeSubscription('[]'), /subscription must be a JSON object/],
      [() => decodeSubscription(JSON.stringify({ topics: ['t'] })), /"version" must be a non-negative integer/],
      [() => decodeSubscription(JSON.stringify({ version: 1, topics: 't' })), /subscription.topics must be an array/],
      [() => decodeSubscription(JSON.stringify({ version: 1, topics: [''] })), /subscription.topics/],
      [() => decodeSubscription(JSON.stringify({ version: 1, topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [0] }] })), /ownedPartitions\[0\].partitions/],
      [() => decodeSubscription(JSON.stringify({ version: 1, topics: ['t'], ownedPartitions: [{ partitions: [1] }] })), /ownedPartitions\[0\].topic/],
      [() => decodeSubscription(JSON.stringify({ version: 1, topics: ['t'], userData: 3 })), /subscription.userData must be a string/],
      [() => decodeAssignment(JSON.stringify({ version: 1, partitions: {} })), /assignment.partitions must be an array/],
      [() => decodeAssignment(JSON.stringify({ version: -1 })), /"version"/],
    ];
    for (const [decode, message] of refusals) {
      expect(decode).toThrow(ConsumerProtocolError);
      expect(decode).toThrow(message);
    }
  });

  it("names Kafka's three assignors", () => {
    expect([...ASSIGNOR_NAMES].sort()).toEqual(['cooperative-sticky', 'range', 'roundrobin']);
  });
});
