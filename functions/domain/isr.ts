/**
 * In-sync replica set rules. The ISR is always kept in assignment order, so that
 * "first in assignment order" and "first in the ISR" can never be confused by
 * the order in which members happened to join.
 */
import type { BrokerId } from './model.js';

/**
 * The ISR without `brokerId`, except that its last member stays: Kafka keeps the
 * last in-sync replica recorded so that, when it comes back, the partition can
 * return with every committed record instead of waiting for an unclean election.
 */
export function removeFromIsr(isr: readonly BrokerId[], brokerId: BrokerId | null): BrokerId[] {
  const remaining = isr.filter((id) => id !== brokerId);
  return remaining.length > 0 ? remaining : [...isr];
}

export function addToIsr(isr: readonly BrokerId[], brokerId: BrokerId, replicas: readonly BrokerId[]): BrokerId[] {
  return replicas.filter((id) => id === brokerId || isr.includes(id));
}

/** Replicas that are alive but have fallen out of the ISR: they must catch up before they may rejoin. */
export function outOfSyncLiveReplicas(
  replicas: readonly BrokerId[],
  isr: readonly BrokerId[],
  isAlive: (brokerId: BrokerId) => boolean,
): BrokerId[] {
  return replicas.filter((id) => !isr.includes(id) && isAlive(id));
}
