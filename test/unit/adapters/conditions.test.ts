import { describe, expect, it } from 'vitest';
import {
  allOf,
  guardedBy,
  guardedUpdate,
  highWatermarkBelow,
  incarnationIs,
  itemAbsent,
  leaderEpochIs,
  leaderIs,
  leaseExpiredAt,
  leaseLiveAt,
  logEndOffsetIs,
  partitionVersionIs,
  setAttributes,
} from '../../../functions/adapters/dynamodb/conditions.js';

describe('named conditions', () => {
  it('partitionVersionIs compares the version attribute to the expected value', () => {
    expect(guardedBy(partitionVersionIs(4))).toEqual({
      ConditionExpression: '#version = :expectedVersion',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expectedVersion': 4 },
    });
  });

  it('leases: live means deadline >= now, expired means deadline < now', () => {
    expect(leaseLiveAt(10).expr).toBe('#deadlineMs >= :liveAt');
    expect(leaseExpiredAt(10).expr).toBe('#deadlineMs < :expiredAt');
  });

  it('allOf joins expressions with AND and merges placeholders and descriptions', () => {
    const both = allOf(leaderIs('A'), leaderEpochIs(3));
    expect(both.expr).toBe('(#leader = :expectedLeader) AND (#leaderEpoch = :expectedLeaderEpoch)');
    expect(both.values).toEqual({ ':expectedLeader': 'A', ':expectedLeaderEpoch': 3 });
    expect(both.description).toBe('leader is A and leader epoch is 3');
  });

  it('uses distinct placeholders in every condition, so any two combine without clashing', () => {
    const all = [
      itemAbsent('pk', 'x'),
      incarnationIs(1),
      leaseLiveAt(1),
      leaseExpiredAt(1),
      partitionVersionIs(1),
      leaderEpochIs(1),
      leaderIs('A'),
      highWatermarkBelow(1),
      logEndOffsetIs(1),
    ];
    const valueNames = all.flatMap((c) => Object.keys(c.values));
    expect(new Set(valueNames).size).toBe(valueNames.length);
  });

  it('leaves ExpressionAttributeValues out when a condition has none (DynamoDB rejects an empty map)', () => {
    expect(guardedBy(itemAbsent('brokerId', 'heartbeat'))).toEqual({
      ConditionExpression: 'attribute_not_exists(#absentKey)',
      ExpressionAttributeNames: { '#absentKey': 'brokerId' },
    });
  });
});

describe('update expressions', () => {
  it('setAttributes SETs every attribute through prefixed placeholders', () => {
    expect(setAttributes({ leader: null, isr: ['A'] })).toEqual({
      UpdateExpression: 'SET #set_leader = :set_leader, #set_isr = :set_isr',
      ExpressionAttributeNames: { '#set_leader': 'leader', '#set_isr': 'isr' },
      ExpressionAttributeValues: { ':set_leader': null, ':set_isr': ['A'] },
    });
  });

  it('setAttributes REMOVEs an attribute given as undefined (a sparse index key that no longer applies)', () => {
    expect(setAttributes({ leader: null, leaderKey: undefined })).toEqual({
      UpdateExpression: 'SET #set_leader = :set_leader REMOVE #set_leaderKey',
      ExpressionAttributeNames: { '#set_leader': 'leader', '#set_leaderKey': 'leaderKey' },
      ExpressionAttributeValues: { ':set_leader': null },
    });
  });

  it('guardedUpdate merges the update and the condition, even on the same attribute', () => {
    const update = guardedUpdate({ highWatermark: 7 }, highWatermarkBelow(7));
    expect(update).toEqual({
      UpdateExpression: 'SET #set_highWatermark = :set_highWatermark',
      ConditionExpression: '#highWatermark < :newHighWatermark',
      ExpressionAttributeNames: { '#set_highWatermark': 'highWatermark', '#highWatermark': 'highWatermark' },
      ExpressionAttributeValues: { ':set_highWatermark': 7, ':newHighWatermark': 7 },
    });
  });
});
