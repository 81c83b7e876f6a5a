/**
 * Broker leases: registration, renewal, and the sweep that turns lapsed leases
 * into REMOVE records on the heartbeat stream (what the failure detector reacts to).
 * Only the broker itself may hold its lease: every heartbeat carries its credential.
 */
import type { HeartbeatResponse, SweepResponse, SweptBroker } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { authenticatedLease } from './broker-credentials.js';
import { isLeaseAlive, leaseFor } from './broker-lease.js';
import { FencedBrokerError } from './errors.js';
import { MAX_CONDITIONAL_ATTEMPTS, SWEEP_LOOKAHEAD_MS } from './limits.js';
import type { BrokerHeartbeat, BrokerId } from './model.js';
import { parseHeartbeatRequest, type HeartbeatRequest } from './requests.js';

interface Lease {
  heartbeat: BrokerHeartbeat;
  rejoined: boolean;
}

/** The broker's lease as read, and the clock it is judged at (read before it). */
interface LeaseRead {
  stored: BrokerHeartbeat | null;
  now: number;
}

/**
 * Authenticates the broker, then renews its live lease, or registers a new incarnation
 * when it has none. Then sweeps other brokers' lapsed leases: every live broker doing so
 * bounds failure detection by the heartbeat interval, however lazily DynamoDB's TTL deletes.
 */
export async function heartbeat(deps: Deps, input: unknown): Promise<HeartbeatResponse> {
  const request = parseHeartbeatRequest(input);
  // The credential costs one strongly consistent read of the metadata table per heartbeat
  // (1 RCU), in the same request as the lease's. It is not cached: a rotation must refuse the
  // old credential at the very next heartbeat.
  const readAt = deps.clock.now();
  const firstRead: LeaseRead = { stored: await authenticatedLease(deps, request.brokerId, request.credential), now: readAt };
  const { heartbeat: lease, rejoined } = await holdLease(deps, request, firstRead);
  const swept = await deleteLapsedLeases(deps, deps.clock.now(), request.brokerId);
  return {
    brokerId: lease.brokerId,
    incarnation: lease.incarnation,
    deadlineMs: lease.deadlineMs,
    expiresAt: lease.expiresAt,
    rejoined,
    sweptBrokers: swept.map((broker) => broker.brokerId),
  };
}

/** The schedule's sweep: deletes every lapsed lease, so its REMOVE reaches the failure detector. */
export async function sweepExpiredBrokers(deps: Deps): Promise<SweepResponse> {
  return { deleted: await deleteLapsedLeases(deps, deps.clock.now()) };
}

async function holdLease(deps: Deps, request: HeartbeatRequest, first: LeaseRead): Promise<Lease> {
  const { sessionTimeoutMs } = deps.settings;
  for (let attempt = 1; attempt <= MAX_CONDITIONAL_ATTEMPTS; attempt++) {
    const { stored, now } = attempt === 1 ? first : await readLease(deps, request.brokerId);
    if (stored && isLeaseAlive(stored, now)) {
      if (stored.incarnation !== request.incarnation) throw fenced(request, stored);
      const fresh = leaseFor(request.brokerId, stored.incarnation, now, sessionTimeoutMs);
      // A controlled shutdown in progress outlives the renewals that keep its lease until it deregisters.
      // (With its deadline: once that passed the mark is void, and renewing does not extend it.)
      const renewed: BrokerHeartbeat = stored.shuttingDown
        ? { ...fresh, shuttingDown: true, ...(stored.shutdownDeadlineMs === undefined ? {} : { shutdownDeadlineMs: stored.shutdownDeadlineMs }) }
        : fresh;
      if (await deps.brokers.renew(renewed, now)) return { heartbeat: renewed, rejoined: false };
    } else {
      const joined = leaseFor(request.brokerId, nextIncarnation(stored, request, now), now, sessionTimeoutMs);
      // Delete, then insert: the stream then shows the old incarnation's REMOVE (failover) before the
      // new one's INSERT (catch-up), never a MODIFY that would hide the change of incarnation.
      if (stored) await deps.brokers.deleteIfExpired(stored.brokerId, stored.incarnation, now);
      if (await deps.brokers.register(joined, null, now)) return { heartbeat: joined, rejoined: true };
    }
    // Lost a race: the lease lapsed under us or another heartbeat for this broker won. Look again.
  }
  throw new FencedBrokerError(
    `broker "${request.brokerId}": another heartbeat for this broker kept winning the lease ` +
      `(${MAX_CONDITIONAL_ATTEMPTS} attempts)`,
  );
}

async function readLease(deps: Deps, brokerId: BrokerId): Promise<LeaseRead> {
  const now = deps.clock.now();
  return { stored: await deps.brokers.get(brokerId), now };
}

/**
 * One more than the lapsed incarnation; with none stored (swept, or first
 * start), the clock, so incarnations keep growing across deletions. Never at or
 * below what the broker says it had, so its old incarnation is always superseded.
 */
function nextIncarnation(stored: BrokerHeartbeat | null, request: HeartbeatRequest, now: number): number {
  if (stored) return stored.incarnation + 1;
  return Math.max(now, (request.incarnation ?? 0) + 1);
}

function fenced(request: HeartbeatRequest, live: BrokerHeartbeat): FencedBrokerError {
  const claim =
    request.incarnation === undefined ? 'a heartbeat without an incarnation' : `incarnation ${request.incarnation}`;
  return new FencedBrokerError(
    `broker "${live.brokerId}" is alive as incarnation ${live.incarnation} ` +
      `until ${new Date(live.deadlineMs).toISOString()}; ` +
      `${claim} may not take over its lease (a zombie or a duplicate broker) - retry after that lease expires`,
  );
}

async function deleteLapsedLeases(deps: Deps, now: number, except?: BrokerId): Promise<SweptBroker[]> {
  const peers = (await deps.brokers.list()).filter((hb) => hb.brokerId !== except);
  const lapsing = peers.filter((hb) => hb.deadlineMs < now + SWEEP_LOOKAHEAD_MS);
  const deleted = await Promise.all(
    lapsing.map(async (peer) => {
      if (isLeaseAlive(peer, now)) await deps.sleep(peer.deadlineMs + 1 - now);
      const { brokerId, incarnation } = peer;
      return (await deps.brokers.deleteIfExpired(brokerId, incarnation, deps.clock.now())) ? [{ brokerId, incarnation }] : [];
    }),
  );
  return deleted.flat();
}
