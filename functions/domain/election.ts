/**
 * Leader election, as Kafka's controller does it (PartitionChangeBuilder), with
 * KIP-966 eligible leader replicas.
 */
import type { Liveness } from './broker-lease.js';
import { removeFromIsr } from './isr.js';
import type { BrokerId, PartitionMetadata } from './model.js';

export type LeaderElection =
  /** A replica holding every committed record takes over: no acknowledged record is lost. */
  | { outcome: 'CLEAN'; leader: BrokerId; isr: BrokerId[] }
  /** Only an out-of-sync replica was alive and the topic allows it: records may be lost, so it is flagged. */
  | { outcome: 'UNCLEAN'; leader: BrokerId; isr: BrokerId[] }
  /** Nobody may lead: the partition stays offline until a replica holding every committed record returns. */
  | { outcome: 'OFFLINE'; isr: BrokerId[] };

type ElectionInput = Pick<PartitionMetadata, 'replicas' | 'isr' | 'leader'> & Partial<Pick<PartitionMetadata, 'elr' | 'lastKnownElr'>>;

export interface ElectionOptions {
  /**
   * Brokers whose lease is live although they are in a controlled shutdown (a superset of
   * the eligible ones). With no eligible replica holding every committed record, such a
   * broker leads rather than the partition going OFFLINE: Kafka keeps a shutting-down
   * broker leading where no other replica can, and a shutdown that never finishes must not
   * leave the partition without a leader. Omitted: never (a controlled shutdown's own moves).
   */
  isRunning?: Liveness;
  /** KIP-966 on: the ISR may shrink to empty, its members moving to the ELR. */
  elrEnabled?: boolean;
}

/**
 * Elects a replacement for the partition's current leader, which is gone (or,
 * for an offline partition, absent). `isAlive` must answer false for the
 * departing leader.
 *
 * The winner is the first replica IN ASSIGNMENT ORDER that is alive and holds every
 * committed record: an ISR member; with none alive, an eligible leader replica, then the
 * last known leader (KIP-966; both hold every committed record, see PartitionMetadata).
 * Assignment order is the preference every controller agrees on, so leadership lands
 * where the layout meant it to. An ELR or last-known-leader winner becomes the whole ISR,
 * as in Kafka: the other members, dead, move to the ELR (partition-change isrChange).
 */
export function electLeader(
  partition: ElectionInput,
  isAlive: Liveness,
  uncleanAllowed: boolean,
  options: ElectionOptions = {},
): LeaderElection {
  const elrEnabled = options.elrEnabled ?? false;
  const remaining = partition.isr.filter((id) => id !== partition.leader);
  // Without ELR, Kafka keeps the last ISR member recorded; with it, it goes to the ELR instead.
  const isr = elrEnabled ? remaining : removeFromIsr(partition.isr, partition.leader);
  const eligibleSets: ReadonlyArray<readonly BrokerId[]> = elrEnabled
    ? [isr, partition.elr ?? [], partition.lastKnownElr ?? []]
    : [isr];
  const pick = (live: Liveness): LeaderElection | null => {
    for (const [index, set] of eligibleSets.entries()) {
      const winner = partition.replicas.find((id) => set.includes(id) && id !== partition.leader && live(id));
      if (winner !== undefined) return { outcome: 'CLEAN', leader: winner, isr: index === 0 ? isr : [winner] };
    }
    return null;
  };
  const clean = pick(isAlive) ?? (options.isRunning ? pick(options.isRunning) : null);
  if (clean) return clean;

  const anyLive = uncleanAllowed ? partition.replicas.find((id) => id !== partition.leader && isAlive(id)) : undefined;
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
