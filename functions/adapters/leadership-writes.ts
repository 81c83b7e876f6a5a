/**
 * MetadataStore.updateLeaderships, for any store: each write is the store's own conditional
 * updateLeadership, `inFlight` at a time. A write refused by its condition comes back as
 * null, to be decided again; any other failure is thrown as a BulkWriteError with every
 * write's outcome, once all have settled: a handler must not return (and its caller decide
 * again) while writes it started are still landing.
 */
import { settleBounded } from '../concurrency.js';
import { BulkWriteError, StaleEpochError } from '../domain/errors.js';
import type { PartitionMetadata } from '../domain/model.js';
import type { LeadershipWrite, MetadataStore } from '../ports/index.js';

export async function updateEachLeadership(
  store: Pick<MetadataStore, 'updateLeadership'>,
  writes: readonly LeadershipWrite[],
  inFlight: number,
): Promise<Array<PartitionMetadata | null>> {
  const outcomes = await settleBounded(writes, inFlight, async ({ partition, update }) => {
    try {
      return await store.updateLeadership(partition.topic, partition.partition, partition.version, update);
    } catch (error) {
      if (!(error instanceof StaleEpochError)) throw error;
      return null;
    }
  });
  if (outcomes.some((outcome) => outcome.status === 'rejected')) throw new BulkWriteError(outcomes);
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<PartitionMetadata | null>).value);
}
