/**
 * Generic helpers for running work concurrently or again, with no knowledge of what
 * the work is: the adapters and the domain share them.
 */

/**
 * Runs `work` over every item, at most `limit` at a time, and returns only once every
 * item settled, each with its own outcome in the items' order. Nothing started here is
 * still running when it returns, whatever failed (a Promise.all over the lanes would
 * return at the first failure while the other lanes go on).
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<Array<PromiseSettledResult<R>>> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(items[index], index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, lane));
  return results;
}

/** The values of settled work in order, or, if any failed, the first failure thrown (everything has settled by then). */
export function valuesOrFirstFailure<R>(settled: ReadonlyArray<PromiseSettledResult<R>>): R[] {
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<R>).value);
}

export interface BackoffPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The cap of the first wait; each further wait's cap doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryTools {
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter's source. */
  random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` until it succeeds, fails with an error `retriable` refuses, or has been
 * tried `policy.attempts` times; between tries waits a "full jitter" backoff (a random
 * wait up to an exponentially growing cap), so that writers who collided do not collide
 * again in step. The last error is rethrown as it is: the caller names what it means.
 */
export async function retryWithBackoff<T>(
  work: (attempt: number) => Promise<T>,
  retriable: (error: unknown) => boolean,
  policy: BackoffPolicy,
  { sleep = realSleep, random = Math.random }: RetryTools = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !retriable(error)) throw error;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * cap));
    }
  }
}
