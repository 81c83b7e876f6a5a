import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from `seed` (SHA-1, version-5 layout), so that redeploying
 * the same template yields the same event source mapping uuid instead of a duplicate.
 */
export function deterministicUuid(seed: string): string {
  const bytes = createHash('sha1').update(seed).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
