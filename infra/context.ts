import type { App } from 'aws-cdk-lib';
import { BOOLEAN, SETTINGS, buildSettings, parseSetting, type LeadershipSettings, type SettingName } from '../protocol/settings.js';

/**
 * Reserved concurrency per function (by its key in functions/function-table.ts). A
 * reservation is both a floor (taken out of the account's shared pool, so a produce flood
 * cannot throttle these functions) and a ceiling (more concurrent invocations are
 * throttled). Absent: the function shares the account's unreserved pool.
 */
export interface ReservedConcurrency {
  heartbeat?: number;
  failureDetector?: number;
  produce?: number;
}

export interface LeadershipContext {
  stackName: string;
  settings: LeadershipSettings;
  logLevel: string;
  /**
   * Keep the Log and Metadata tables (and the function log groups) when the stack is
   * deleted or a change would replace them, with deletion protection on the tables.
   * `-c retainData=false` for throwaway stacks (tests, local demos).
   */
  retainData: boolean;
  /** Days each function's CloudWatch log group keeps its events. */
  logRetentionDays: number;
  reservedConcurrency: ReservedConcurrency;
}

/** The values CloudWatch Logs accepts for a log group's retention (days). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** A setting from its context key, or its default; `-c key=value` arrives as a string, cdk.json context as a JSON value. */
function setting<K extends SettingName>(app: App, name: K): LeadershipSettings[K] {
  const { context: key, kind, default: fallback } = SETTINGS[name];
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = parseSetting(name, raw);
  if (value === undefined) throw new Error(`Context ${key} must be ${kind.expected}, got ${JSON.stringify(raw)}.`);
  return value;
}

function flag(app: App, key: string, fallback: boolean): boolean {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = BOOLEAN.parse(raw);
  if (value === undefined) throw new Error(`Context ${key} must be ${BOOLEAN.expected}, got ${JSON.stringify(raw)}.`);
  return value;
}

/**
 * A reservation, or `none` for the shared pool. 0 is refused: Lambda takes a reservation
 * of 0 as "throttle every invocation", which is a way to switch a function off, not a tuning.
 */
function reservation(app: App, key: string, fallback: number | 'none'): number | undefined {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  if (raw === 'none') return undefined;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`Context ${key} must be a positive integer (reserved concurrent executions) or "none", got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function retentionDays(app: App, key: string, fallback: number): number {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !LOG_RETENTION_DAYS.includes(value)) {
    throw new Error(`Context ${key} must be one of CloudWatch Logs' retentions in days (${LOG_RETENTION_DAYS.join(', ')}), got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function text(app: App, key: string, fallback: string): string {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  if (typeof raw !== 'string' || raw.trim() === '') throw new Error(`Context ${key} must be a non-empty string.`);
  return raw.trim();
}

/** The app's context with defaults; a malformed value fails the synth naming its key. */
export function readLeadershipContext(app: App): LeadershipContext {
  const logLevel = text(app, 'logLevel', 'INFO').toUpperCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`Context logLevel must be one of ${LOG_LEVELS.join(', ')}.`);
  return {
    stackName: text(app, 'stackName', 'PartitionLeadership'),
    logLevel,
    // Data is kept unless a stack says it is throwaway: `cdk destroy`, or a change that
    // replaces a table, must not take the only copy of the records with it.
    retainData: flag(app, 'retainData', true),
    logRetentionDays: retentionDays(app, 'logRetentionDays', 30),
    reservedConcurrency: {
      // Heartbeats and failure detection must run when the account is saturated (a produce
      // flood), or live brokers' leases lapse and a failover storm follows. Sized with room:
      // a reservation is also a cap, and a throttled heartbeat is a late one. The failure
      // detector is fed one batch per shard at a time, so it needs a few at most.
      // Together they take 30 of the 1,000 a default account has (which must keep 100 unreserved).
      heartbeat: reservation(app, 'heartbeatReservedConcurrency', 20),
      failureDetector: reservation(app, 'failureDetectorReservedConcurrency', 10),
      // No cap by default: a produce cap throttles clients, a choice for the operator.
      produce: reservation(app, 'produceReservedConcurrency', 'none'),
    },
    settings: buildSettings((name) => setting(app, name)),
  };
}
