/**
 * The high watermark: the first offset not yet held by every in-sync replica.
 * Consumers read only below it, and acks=all acknowledges only up to it.
 */
import type { BrokerId, ReplicaState } from './model.js';

export function logEndOffsetOf(states: readonly ReplicaState[], brokerId: BrokerId): number {
  // A replica without a state has nothing: counting it as 0 can only hold the HW back, never push it past data.
  return states.find((state) => state.brokerId === brokerId)?.logEndOffset ?? 0;
}

export function highWatermarkOf(isr: readonly BrokerId[], states: readonly ReplicaState[]): number {
  return Math.min(...isr.map((brokerId) => logEndOffsetOf(states, brokerId)));
}
