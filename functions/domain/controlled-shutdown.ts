/**
 * Controlled shutdown (Kafka's ControlledShutdown request): before a broker stops,
 * its leaderships move to replicas that stay, it leaves the ISRs it is in, and
 * then its lease is deleted, so a planned stop costs no offline partition and no
 * failover wait.
 *
 * Only the broker itself may ask: the request carries its credential, checked before
 * anything is read for it (an incarnation is no proof, describe shows it to anyone).
 *
 * The order is what makes it safe. The broker is first marked shutting down on its
 * own lease (conditional on its incarnation): from then on no election, failover,
 * rebalance or ISR admission picks it. Every partition move is the ordinary
 * conditional leadership write (changeLeadership) followed by completeChange, so
 * the new leader's followers are matched with it before they count toward the HW.
 * Every step is safe to repeat: a shutdown that crashes halfway is run again, or
 * finished by the reconciler (which moves a shutting-down leader cleanly) and the
 * failure detector (when the lease goes).
 */
import type { ControlledShutdownResponse } from '../../protocol/messages.js';
import type { Deps, LeadershipUpdate } from '../ports/index.js';
import { eligibilityAt, isLeaseAlive, type Liveness } from './broker-lease.js';
import { authenticatedLease } from './broker-credentials.js';
import { readLeases } from './cluster.js';
import { electLeader } from './election.js';
import { BrokerNotRegisteredError, FencedBrokerError } from './errors.js';
import { removeFromIsr } from './isr.js';
import { CONTROLLED_SHUTDOWN_MARK_MS } from './limits.js';
import type { BrokerHeartbeat, BrokerId, PartitionMetadata } from './model.js';
import {
  changeLeadership,
  completeChange,
  electionUpdate,
  forEachPartition,
  isrChange,
  isrOnlyChange,
} from './partition-change.js';
import { isCausedBy } from './partitions.js';
import { parseControlledShutdownRequest, type ControlledShutdownRequest } from './requests.js';
import { partitionName } from './views.js';

export async function controlledShutdown(deps: Deps, input: unknown): Promise<ControlledShutdownResponse> {
  const request = parseControlledShutdownRequest(input);
  const lease = requireOwnLease(
    deps,
    request,
    await authenticatedLease(deps, request.brokerId, request.credential),
  );
  const markDeadline = deps.clock.now() + CONTROLLED_SHUTDOWN_MARK_MS;
  if (!(await deps.brokers.markShuttingDown(lease.brokerId, lease.incarnation, markDeadline))) {
    // The lease changed between the read and the write: report it as it is now.
    requireOwnLease(deps, request, await deps.brokers.get(request.brokerId));
    throw new FencedBrokerError(`broker "${request.brokerId}" incarnation ${request.incarnation} changed during its shutdown`);
  }
  const cause = { brokerId: lease.brokerId, incarnation: lease.incarnation };
  const [leases, partitions] = await Promise.all([readLeases(deps), deps.metadata.listPartitions()]);
  const now = deps.clock.now();
  // The broker's own lease now carries the flag, so it is not eligible under this snapshot.
  const eligible = eligibilityAt(leases.heartbeats, leases.readAt);
  const isEligible: Liveness = (id) => id !== lease.brokerId && eligible(id);

  const moved: string[] = [];
  const left: string[] = [];
  const remaining: string[] = [];
  const led = partitions.filter((p) => p.leader === lease.brokerId);
  // Leaderships first: a partition without its leader is unavailable, an ISR member costs only durability.
  const leadershipEvents = await forEachPartition(led, async (partition) => {
    const outcome = await changeLeadership(deps, partition, (current) => decideMove(deps, current, lease.brokerId, isEligible, cause, now));
    if (!outcome.changed) {
      if (outcome.partition.leader === lease.brokerId) remaining.push(partitionName(partition));
      return [];
    }
    moved.push(partitionName(partition));
    return [await completeChange(deps, outcome.partition, isEligible)];
  });
  // Re-read: the moves above took the broker out of those partitions' ISRs, and others may have changed meanwhile.
  const listing = await deps.metadata.listPartitions();
  const following = listing.filter((p) => p.leader !== null && p.leader !== lease.brokerId && p.isr.includes(lease.brokerId));
  const isrEvents = await forEachPartition(following, async (partition) => {
    const outcome = await changeLeadership(deps, partition, (current) => decideLeave(deps, current, lease.brokerId, cause, now));
    if (!outcome.changed) return [];
    left.push(partitionName(partition));
    return [await completeChange(deps, outcome.partition, isEligible)];
  });
  // A retried shutdown: what an earlier run of it moved (still the partition's last change) may have
  // stopped before its followers were levelled or its event published. Completion is safe to repeat.
  const completed = new Set([...moved, ...left]);
  const earlier = listing.filter((p) => isCausedBy(p.lastChange, lease) && !completed.has(partitionName(p)) && p.leader !== lease.brokerId);
  const earlierEvents = await forEachPartition(earlier, (partition) => completeChange(deps, partition, isEligible));
  const deregistered = await deps.brokers.deregister(lease.brokerId, lease.incarnation);
  return {
    brokerId: lease.brokerId,
    incarnation: lease.incarnation,
    movedLeaderships: moved.sort(),
    leftIsrs: left.sort(),
    remainingLeaderships: remaining.sort(),
    deregistered,
    events: [...leadershipEvents.flat(), ...isrEvents.flat(), ...earlierEvents],
  };
}

/** The broker's live lease as just read, exactly this incarnation; otherwise a refusal that writes nothing. */
function requireOwnLease(deps: Deps, { brokerId, incarnation }: ControlledShutdownRequest, stored: BrokerHeartbeat | null): BrokerHeartbeat {
  if (!stored || !isLeaseAlive(stored, deps.clock.now())) {
    throw new BrokerNotRegisteredError(`broker "${brokerId}" has no live lease: there is nothing to shut down`);
  }
  if (stored.incarnation !== incarnation) {
    throw new FencedBrokerError(
      `broker "${brokerId}" is alive as incarnation ${stored.incarnation}, not ${incarnation}: ` +
        `only the incarnation that holds the lease may shut it down`,
    );
  }
  return stored;
}

/**
 * Kafka's controlled-shutdown election: the first replica in assignment order that
 * is alive, in the ISR and not shutting down. None: the broker keeps leading (null).
 * The broker leaves the ISR with its leadership (electLeader drops the old leader).
 */
async function decideMove(
  deps: Deps,
  current: PartitionMetadata,
  brokerId: BrokerId,
  isEligible: Liveness,
  cause: { brokerId: BrokerId; incarnation: number },
  now: number,
): Promise<LeadershipUpdate | null> {
  if (current.leader !== brokerId || current.state !== 'ONLINE') return null;
  const election = electLeader(current, isEligible, false, { elrEnabled: deps.settings.eligibleLeaderReplicasEnabled });
  if (election.outcome !== 'CLEAN') return null;
  return electionUpdate(deps, current, election, 'CONTROLLED_SHUTDOWN', cause, now);
}

/** A follower's leaving: the leader and its epoch stay (only the version moves); the last ISR member is kept. */
async function decideLeave(
  deps: Deps,
  current: PartitionMetadata,
  brokerId: BrokerId,
  cause: { brokerId: BrokerId; incarnation: number },
  now: number,
): Promise<LeadershipUpdate | null> {
  if (current.leader === null || current.leader === brokerId || !current.isr.includes(brokerId)) return null;
  const isr = removeFromIsr(current.isr, brokerId);
  if (isr.length === current.isr.length) return null;
  return isrChange(deps, current, isrOnlyChange(current, isr, 'ISR_SHRUNK', cause, now));
}
