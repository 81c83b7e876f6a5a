/**
 * How Lambda reads an event-source invocation's outcome, including partial batch
 * responses (FunctionResponseTypes: ReportBatchItemFailures). Rules as documented
 * by AWS: null/empty batchItemFailures = success; an itemIdentifier that is missing,
 * empty or not in the batch makes the whole batch a failure.
 */
import { isRecord } from '../shared/guards.js';
import type { InvokeResult } from '../types.js';

export type BatchOutcome =
  | { kind: 'success' }
  /** The ids reported failed; all known members of the batch. */
  | { kind: 'partial'; failedIds: string[] }
  | { kind: 'failed'; reason: string };

export function classifyBatchResult(
  result: InvokeResult,
  reportBatchItemFailures: boolean,
  batchIds: readonly string[],
): BatchOutcome {
  if (result.error) return { kind: 'failed', reason: `${result.error.errorType}: ${result.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  const payload = result.payload;
  if (!isRecord(payload) || payload.batchItemFailures === undefined || payload.batchItemFailures === null) {
    return { kind: 'success' };
  }
  const failures = payload.batchItemFailures;
  if (!Array.isArray(failures)) return { kind: 'failed', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  const known = new Set(batchIds);
  const failedIds: string[] = [];
  for (const failure of failures) {
    const id = isRecord(failure) ? failure.itemIdentifier : undefined;
    if (typeof id !== 'string' || !known.has(id)) {
      return { kind: 'failed', reason: `invalid batchItemFailures entry ${JSON.stringify(failure)}` };
    }
    failedIds.push(id);
  }
  return { kind: 'partial', failedIds };
}
