import { describe, expect, it } from 'vitest';
import { electLeader, preferredLeaderMove } from '../../../functions/domain/election.js';
import { highWatermarkOf } from '../../../functions/domain/high-watermark.js';
import { addToIsr, removeFromIsr } from '../../../functions/domain/isr.js';
import { aPartition, aliveOnly } from '../../factories/entities.js';

describe('electLeader', () => {
  it('picks the first replica in ASSIGNMENT order that is alive and in sync, not the first in ISR order', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['C', 'B', 'A'] });
    expect(electLeader(partition, aliveOnly('B', 'C'), false)).toEqual({ outcome: 'CLEAN', leader: 'B', isr: ['C', 'B'] });
  });

  it('replaces a dead leader and drops only it from the ISR', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A', 'B', 'C'] });
    expect(electLeader(partition, aliveOnly('B', 'C'), false)).toEqual({ outcome: 'CLEAN', leader: 'B', isr: ['B', 'C'] });
  });

  it('skips in-sync replicas that are dead too', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A', 'B', 'C'] });
    expect(electLeader(partition, aliveOnly('C'), false)).toMatchObject({ outcome: 'CLEAN', leader: 'C' });
  });

  it('skips live replicas outside the ISR: they may lack acknowledged records', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A', 'C'] });
    expect(electLeader(partition, aliveOnly('B', 'C'), false)).toMatchObject({ outcome: 'CLEAN', leader: 'C' });
  });

  it('leaves the partition OFFLINE when no in-sync replica is alive, keeping the last ISR member', () => {
    const lastStanding = aPartition({ replicas: ['A', 'B'], leader: 'B', isr: ['B'] });
    expect(electLeader(lastStanding, aliveOnly('A'), false)).toEqual({ outcome: 'OFFLINE', isr: ['B'] });

    const bothDead = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A', 'B'] });
    expect(electLeader(bothDead, aliveOnly('C'), false)).toEqual({ outcome: 'OFFLINE', isr: ['B'] });
  });

  it('with unclean election enabled, takes the first live replica in assignment order and makes it the whole ISR', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A'] });
    expect(electLeader(partition, aliveOnly('C', 'B'), true)).toEqual({ outcome: 'UNCLEAN', leader: 'B', isr: ['B'] });
  });

  it('prefers a clean leader even when unclean election is enabled', () => {
    const partition = aPartition({ replicas: ['A', 'B', 'C'], leader: 'A', isr: ['A', 'C'] });
    expect(electLeader(partition, aliveOnly('B', 'C'), true)).toMatchObject({ outcome: 'CLEAN', leader: 'C' });
  });

  it('stays OFFLINE when unclean election is enabled but no replica is alive', () => {
    const partition = aPartition({ replicas: ['A', 'B'], leader: 'A', isr: ['A'] });
    expect(electLeader(partition, aliveOnly(), true)).toEqual({ outcome: 'OFFLINE', isr: ['A'] });
  });

  it('brings an offline partition back under its returning in-sync replica', () => {
    const offline = aPartition({ replicas: ['A', 'B'], leader: null, state: 'OFFLINE', isr: ['B'] });
    expect(electLeader(offline, aliveOnly('A', 'B'), false)).toEqual({ outcome: 'CLEAN', leader: 'B', isr: ['B'] });
    expect(electLeader(offline, aliveOnly('A'), false)).toEqual({ outcome: 'OFFLINE', isr: ['B'] });
  });
});

describe('preferredLeaderMove', () => {
  const drifted = aPartition({ replicas: ['A', 'B'], leader: 'B', isr: ['A', 'B'] });

  it('moves leadership to replicas[0] when it is alive and in sync', () => {
    expect(preferredLeaderMove(drifted, aliveOnly('A', 'B'))).toBe('A');
  });

  it('keeps the current leader when the preferred one is dead, out of sync, or already leads', () => {
    expect(preferredLeaderMove(drifted, aliveOnly('B'))).toBeNull();
    expect(preferredLeaderMove({ ...drifted, isr: ['B'] }, aliveOnly('A', 'B'))).toBeNull();
    expect(preferredLeaderMove(aPartition({ replicas: ['A', 'B'] }), aliveOnly('A', 'B'))).toBeNull();
  });
});

describe('ISR rules', () => {
  it('removes a member but never the last one', () => {
    expect(removeFromIsr(['A', 'B'], 'A')).toEqual(['B']);
    expect(removeFromIsr(['B'], 'B')).toEqual(['B']);
    expect(removeFromIsr(['A', 'B'], 'C')).toEqual(['A', 'B']);
  });

  it('adds a member in assignment order', () => {
    expect(addToIsr(['C'], 'A', ['A', 'B', 'C'])).toEqual(['A', 'C']);
    expect(addToIsr(['A', 'C'], 'A', ['A', 'B', 'C'])).toEqual(['A', 'C']);
  });
});

describe('highWatermarkOf', () => {
  const state = (brokerId: string, logEndOffset: number, matchedEpoch = 3) => ({
    topic: 'orders',
    partition: 1,
    brokerId,
    logEndOffset,
    matchedEpoch,
    updatedAt: 0,
  });
  const states = [state('A', 10), state('B', 7), state('C', 2)];
  const led = (isr: string[]) => ({ isr, leader: 'A', leaderEpoch: 3 });

  it('is the smallest log end offset in the ISR; replicas outside it do not count', () => {
    expect(highWatermarkOf(led(['A', 'B', 'C']), states)).toBe(2);
    expect(highWatermarkOf(led(['A', 'B']), states)).toBe(7);
    expect(highWatermarkOf(led(['A']), states)).toBe(10);
  });

  it('counts a member without a replica state as having nothing', () => {
    expect(highWatermarkOf(led(['A', 'Z']), states)).toBe(0);
  });

  it('is unknown while an in-sync follower is not matched in the leader epoch; the leader itself always counts', () => {
    const unmatched = [state('A', 10, 1), state('B', 12, 2), state('C', 2)];
    expect(highWatermarkOf(led(['A', 'B']), unmatched)).toBeNull();
    expect(highWatermarkOf(led(['A', 'C']), unmatched)).toBe(2);
  });
});
