/**
 * A tiny scoped logger for the embedded cloud. Warnings and errors always go to
 * stderr; debug notes only when LOCALCLOUD_DEBUG is set, because the deployer and
 * the pollers narrate a lot that only matters when something looks wrong.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

const debugEnabled = (): boolean => {
  const flag = process.env.LOCALCLOUD_DEBUG;
  return flag !== undefined && flag !== '' && flag !== '0' && flag !== 'false';
};

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

export function createLogger(scope: string): Logger {
  const prefix = `[localcloud:${scope}]`;
  return {
    debug: (message) => {
      if (debugEnabled()) console.error(`${prefix} ${message}`);
    },
    info: (message) => console.error(`${prefix} ${message}`),
    warn: (message) => console.error(`${prefix} WARN ${message}`),
    error: (message, cause) =>
      console.error(`${prefix} ERROR ${message}${cause === undefined ? '' : `: ${describeError(cause)}`}`),
  };
}
