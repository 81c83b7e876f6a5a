/** The simulation's consumers read through the consume function's fetch too. */
import * as domain from '../../functions/domain/index.js';
import type { ErrorName } from '../../protocol/errors.js';
import type { Deps } from '../../functions/ports/index.js';

/**
 * A consume of one partition made as a fetch, its refusal (an answer there) thrown again as
 * the domain error a consume would have thrown, so the consumers handle both alike.
 */
export async function consumeThroughFetch(
  deps: Deps,
  request: domain.ConsumeRequest | Record<string, unknown>,
  wait: { maxWaitMs?: number; minBytes?: number } = {},
): Promise<domain.ConsumeResponse> {
  const {
    partitions: [answer],
  } = await domain.fetch(deps, { partitions: [request], ...wait });
  if (!domain.isFetchPartitionError(answer)) return answer;
  const Refusal = REFUSALS[answer.errorType];
  if (!Refusal) throw new Error(`fetch refused ${answer.topic}-${answer.partition} with an unexpected ${answer.errorType}: ${answer.errorMessage}`);
  throw new Refusal(answer.errorMessage);
}

const REFUSALS: Partial<Record<ErrorName, new (message: string) => domain.DomainError>> = {
  FencedLeaderEpochError: domain.FencedLeaderEpochError,
  UnknownLeaderEpochError: domain.UnknownLeaderEpochError,
  OffsetOutOfRangeError: domain.OffsetOutOfRangeError,
  PartitionOfflineError: domain.PartitionOfflineError,
  UnknownTopicError: domain.UnknownTopicError,
};
