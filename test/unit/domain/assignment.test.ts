import { describe, expect, it } from 'vitest';
import { assignReplicas } from '../../../functions/domain/assignment.js';
import { InvalidReplicationFactorError } from '../../../functions/domain/errors.js';

describe('assignReplicas (Kafka round-robin, startIndex 0, shift 0)', () => {
  it('lays 4 partitions at RF 2 over A..D as 1:[A,B] 2:[B,C] 3:[C,D] 4:[D,A]', () => {
    expect(assignReplicas(['A', 'B', 'C', 'D'], 4, 2)).toEqual([
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'D'],
      ['D', 'A'],
    ]);
  });

  it('puts every broker on every partition at RF 3 over 3 brokers, leaders round-robin', () => {
    expect(assignReplicas(['A', 'B', 'C'], 3, 3)).toEqual([
      ['A', 'B', 'C'],
      ['B', 'C', 'A'],
      ['C', 'A', 'B'],
    ]);
  });

  it('shifts the followers once the leaders wrap around the brokers (6 partitions on 4 brokers)', () => {
    expect(assignReplicas(['A', 'B', 'C', 'D'], 6, 2)).toEqual([
      ['A', 'B'],
      ['B', 'C'],
      ['C', 'D'],
      ['D', 'A'],
      // second round: followers at distance 2 instead of 1
      ['A', 'C'],
      ['B', 'D'],
    ]);
    expect(assignReplicas(['A', 'B', 'C', 'D'], 6, 3).slice(4)).toEqual([
      ['A', 'C', 'D'],
      ['B', 'D', 'A'],
    ]);
  });

  it('depends only on the set of brokers, sorted numerically', () => {
    expect(assignReplicas(['D', 'B', 'A', 'C'], 4, 2)).toEqual(assignReplicas(['A', 'B', 'C', 'D'], 4, 2));
    expect(assignReplicas(['broker-10', 'broker-2', 'broker-1'], 3, 1)).toEqual([['broker-1'], ['broker-2'], ['broker-10']]);
  });

  it('never places two replicas of a partition on one broker', () => {
    for (const partition of assignReplicas(['A', 'B', 'C', 'D', 'E'], 20, 4)) {
      expect(new Set(partition).size).toBe(4);
    }
  });

  it('refuses a replication factor above the number of brokers, naming both numbers', () => {
    expect(() => assignReplicas(['A', 'B'], 1, 3)).toThrow(InvalidReplicationFactorError);
    expect(() => assignReplicas(['A', 'B'], 1, 3)).toThrow(/replication factor 3 .*live brokers \(2\)/);
    expect(() => assignReplicas([], 1, 1)).toThrow(/\(0\)/);
  });
});
