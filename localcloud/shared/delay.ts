import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms`, or less when `signal` aborts. Never rejects: the pollers check their
 * own stop flag after waking, and an abort is the normal way to stop them.
 * The timer is unref'd so a forgotten poller never keeps a process alive.
 */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await sleep(ms, undefined, { signal, ref: false });
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  }
}
