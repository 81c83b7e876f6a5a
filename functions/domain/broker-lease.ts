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

/** Whether a controlled shutdown's mark is in force: set, and its deadline not passed (a void mark is ignored). */
export const isShuttingDown = (heartbeat: BrokerHeartbeat, now: number): boolean =>
  heartbeat.shuttingDown === true && (heartbeat.shutdownDeadlineMs === undefined || now <= heartbeat.shutdownDeadlineMs);

/** Whether the broker may be elected or admitted to an ISR: its lease is live and it is not in a controlled shutdown. */
export const isLeaseEligible = (heartbeat: BrokerHeartbeat, now: number): boolean =>
  isLeaseAlive(heartbeat, now) && !isShuttingDown(heartbeat, now);

/**
 * The liveness that elections and ISR admission use (Kafka's fenced or
 * controlled-shutdown brokers are not acceptable leaders): live and not shutting down.
 */
export function eligibilityAt(heartbeats: readonly BrokerHeartbeat[], now: number): Liveness {
  const eligible = new Set(heartbeats.filter((hb) => isLeaseEligible(hb, now)).map((hb) => hb.brokerId));
  return (brokerId) => eligible.has(brokerId);
}
