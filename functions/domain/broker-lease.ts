/**
 * Broker liveness. A broker is alive while the judge's clock has not passed its
 * lease deadline (Kafka: last contact + session timeout >= now).
 */
import type { BrokerHeartbeat, BrokerId } from './model.js';

export const isLeaseAlive = (heartbeat: BrokerHeartbeat, now: number): boolean => heartbeat.deadlineMs >= now;

export function leaseFor(brokerId: BrokerId, incarnation: number, now: number, sessionTimeoutMs: number): BrokerHeartbeat {
  const deadlineMs = now + sessionTimeoutMs;
  return {
    brokerId,
    incarnation,
    lastHeartbeatAt: now,
    deadlineMs,
    // DynamoDB's TTL is in whole seconds; rounding up never expires a lease early.
    expiresAt: Math.ceil(deadlineMs / 1000),
  };
}

export type Liveness = (brokerId: BrokerId) => boolean;

/** A liveness test over one snapshot of the heartbeats, so every decision in a call sees the same cluster. */
export function livenessAt(heartbeats: readonly BrokerHeartbeat[], now: number): Liveness {
  const alive = new Set(heartbeats.filter((hb) => isLeaseAlive(hb, now)).map((hb) => hb.brokerId));
  return (brokerId) => alive.has(brokerId);
}
