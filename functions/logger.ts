/**
 * The functions' one Powertools logger. Service name and level come from
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL (set by the stack), so they
 * are not repeated here.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export const logger = new Logger({ persistentKeys: { system: 'partition-leadership' } });

/** An error as a log attribute: Powertools formats Error instances (name, message, stack); anything else as text. */
export const loggable = (error: unknown): Error | string => (error instanceof Error ? error : String(error));

/** A stored item left out of a listing because it could not be read (a hand edit, a bug, an older schema). */
export interface MalformedItem {
  /** The item's key as far as it could be read. */
  key: string;
  /** What the codec found wrong, naming the field. */
  reason: string;
}

/** Reasons shown per log line: the count says how many there were. */
const MALFORMED_ITEMS_SHOWN = 10;

/**
 * One error line per listing that skipped brokers-table items. The line is in CloudWatch's
 * embedded metric format, so `malformedBrokerItems` becomes a metric (namespace
 * PartitionLeadership, dimension service) that an alarm can watch without a metrics library:
 * a skipped broker is neither live nor swept, which nobody notices otherwise.
 */
export function reportMalformedBrokerItems(table: string, items: readonly MalformedItem[]): void {
  logger.error('brokers-table items skipped: they cannot be read, so their brokers count as unknown (not live, not swept)', {
    table,
    malformedBrokerItems: items.length,
    items: items.slice(0, MALFORMED_ITEMS_SHOWN),
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        { Namespace: 'PartitionLeadership', Dimensions: [['service']], Metrics: [{ Name: 'malformedBrokerItems', Unit: 'Count' }] },
      ],
    },
  });
}

/** The keys a log line can carry about what a request or record concerns. */
export interface LogKeys {
  brokerId?: string;
  topic?: string;
  partition?: number;
  leaderEpoch?: number;
}

/** Picks the well-known keys from an untrusted invoke payload, ignoring anything mistyped (validation is the domain's job). */
export function logKeysOf(payload: unknown): LogKeys {
  if (typeof payload !== 'object' || payload === null) return {};
  const fields = payload as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' ? { [name]: fields[name] } : {});
  const count = (name: string) => (typeof fields[name] === 'number' ? { [name]: fields[name] } : {});
  return { ...text('brokerId'), ...text('topic'), ...count('partition'), ...count('leaderEpoch') };
}

/**
 * Runs one invocation with the Lambda context and the request's keys on every
 * log line. Temporary keys are dropped afterwards: a warm container would
 * otherwise stamp the previous request's brokerId on the next one's lines.
 */
export async function withInvocationLogging<T>(context: Context | undefined, keys: LogKeys, work: () => Promise<T>): Promise<T> {
  if (context) logger.addContext(context);
  logger.appendKeys({ ...keys });
  try {
    return await work();
  } finally {
    logger.resetKeys();
  }
}
