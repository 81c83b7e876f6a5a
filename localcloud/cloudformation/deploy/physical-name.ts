import { shortHash } from '../../shared/ids.js';

/**
 * The name a resource gets when its template leaves the name to CloudFormation.
 * Real CloudFormation appends a random suffix; here it must be deterministic so a
 * redeploy finds the same table/queue/function. Over-long names keep their head and
 * end in a hash of the full name, so two long names never collide after trimming.
 */
export function physicalName(stackName: string, logicalId: string, maxLength: number, suffix = ''): string {
  const full = `${stackName}-${logicalId}`;
  const budget = maxLength - suffix.length;
  if (full.length <= budget) return `${full}${suffix}`;
  const hash = shortHash(full);
  return `${full.slice(0, budget - hash.length - 1)}-${hash}${suffix}`;
}
