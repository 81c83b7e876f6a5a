/**
 * Replica assignment: Kafka's AdminUtils.assignReplicasToBrokers (the rack-unaware
 * variant) with startIndex = 0 and nextReplicaShift = 0 instead of random ones,
 * so the same brokers always give the same layout.
 */
import { InvalidReplicationFactorError } from './errors.js';
import type { BrokerId } from './model.js';

const START_INDEX = 0;
const FIRST_REPLICA_SHIFT = 0;

/** Numeric-aware, so "broker-2" sorts before "broker-10" the way Kafka's integer ids do. */
export const compareBrokerIds = (a: BrokerId, b: BrokerId): number => a.localeCompare(b, 'en', { numeric: true });

/**
 * Replica lists for partitions 1..partitions (index 0 holds partition 1), each in
 * preference order: element 0 is the preferred leader.
 *
 * Leaders go round-robin over the sorted brokers. Followers sit at a distance of
 * 1 + (shift + j) % (n - 1) from the leader, and the shift grows by one every
 * time the leaders wrap around the broker list: without it, partitions p and
 * p + n would have identical replica sets and a broker's failure would load a
 * single other broker with all of its leadership.
 */
export function assignReplicas(brokerIds: readonly BrokerId[], partitions: number, replicationFactor: number): BrokerId[][] {
  const brokers = [...brokerIds].sort(compareBrokerIds);
  const n = brokers.length;
  if (replicationFactor > n) {
    throw new InvalidReplicationFactorError(
      `replication factor ${replicationFactor} is larger than the number of live brokers (${n})`,
    );
  }
  return Array.from({ length: partitions }, (_, p) => {
    const first = (p + START_INDEX) % n;
    // Kafka increments the shift when p > 0 && p % n == 0, i.e. once per completed round.
    const shift = FIRST_REPLICA_SHIFT + Math.floor(p / n);
    const followers = Array.from(
      { length: replicationFactor - 1 },
      (_, j) => brokers[(first + 1 + ((shift + j) % (n - 1))) % n],
    );
    return [brokers[first], ...followers];
  });
}
