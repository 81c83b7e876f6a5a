/**
 * Leader election, as Kafka's controller does it (PartitionChangeBuilder).
 */
import type { Liveness } from './broker-lease.js';
import { removeFromIsr } from './isr.js';
import type { BrokerId, PartitionMetadata } from './model.js';

export type LeaderElection =
  /** A live in-sync replica takes over: no acknowledged record is lost. */
  | { outcome: 'CLEAN'; leader: BrokerId; isr: BrokerId[] }
  /** Only an out-of-sync replica was alive and the topic allows it: records may be lost, so it is flagged. */
  | { outcome: 'UNCLEAN'; leader: BrokerId; isr: BrokerId[] }
  /** Nobody may lead: the partition stays offline until an in-sync replica returns. */
  | { outcome: 'OFFLINE'; isr: BrokerId[] };

type ElectionInput = Pick<PartitionMetadata, 'replicas' | 'isr' | 'leader'>;

/**
 * Elects a replacement for the partition's current leader, which is gone (or,
 * for an offline partition, absent). `isAlive` must answer false for the
 * departing leader.
 *
 * The winner is the first replica IN ASSIGNMENT ORDER that is alive and in the
 * ISR, not the first in ISR order: assignment order is the preference every
 * controller agrees on, so leadership lands where the layout meant it to.
 */
export function electLeader(partition: ElectionInput, isAlive: Liveness, uncleanAllowed: boolean): LeaderElection {
  const isr = removeFromIsr(partition.isr, partition.leader);
  const inSync = partition.replicas.find((id) => isr.includes(id) && isAlive(id));
  if (inSync !== undefined) return { outcome: 'CLEAN', leader: inSync, isr };

  const anyLive = uncleanAllowed ? partition.replicas.find(isAlive) : undefined;
  // The new leader's log is the truth from now on; nobody else is in sync with it.
  if (anyLive !== undefined) return { outcome: 'UNCLEAN', leader: anyLive, isr: [anyLive] };

  return { outcome: 'OFFLINE', isr };
}

/**
 * Preferred-leader election: replicas[0] takes over only when it is alive and in
 * the ISR; otherwise the current (valid) leader stays. Returns the new leader, or
 * null when nothing should change.
 */
export function preferredLeaderMove(partition: PartitionMetadata, isAlive: Liveness): BrokerId | null {
  const preferred = partition.replicas[0];
  if (preferred === undefined || partition.state !== 'ONLINE' || partition.leader === preferred) return null;
  return partition.isr.includes(preferred) && isAlive(preferred) ? preferred : null;
}
