/**
 * Where the diskless objects live in their bucket, shared with the stack (its grants name
 * the prefix): `<prefix>/<yyyyMMddHHmm>/<writtenAt ms>-<random hex>`, bucketed by the
 * minute the writer's clock read, so a window of a few minutes is a few List calls.
 */
export const OBJECT_PREFIX = 'objects';

const pad = (n: number) => String(n).padStart(2, '0');

/** `yyyyMMddHHmm` in UTC. */
export const minuteBucket = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
};

/** The List prefix of one minute's objects. */
export const minutePrefix = (ms: number, prefix = OBJECT_PREFIX): string => `${prefix}/${minuteBucket(ms)}/`;

/** A new object's key; `suffix` keeps two writers of one millisecond apart. */
export const objectKey = (writtenAt: number, suffix: string, prefix = OBJECT_PREFIX): string => `${minutePrefix(writtenAt, prefix)}${writtenAt}-${suffix}`;
