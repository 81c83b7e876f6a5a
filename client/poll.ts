export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error, e.g. "partition 1 to be led by B". */
  description: string;
}

/**
 * Polls `probe` until it returns something other than undefined/false, or the deadline
 * passes. Tests and scripts wait on observable state this way, never on a guessed sleep.
 */
export async function pollUntil<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
