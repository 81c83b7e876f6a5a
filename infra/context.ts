import type { App } from 'aws-cdk-lib';
import type { LeadershipSettings } from '../functions/ports/index.js';

export interface LeadershipContext {
  stackName: string;
  settings: LeadershipSettings;
  logLevel: string;
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];

/** `-c key=value` arrives as a string, cdk.json context as a number: both accepted, anything else refused by name. */
function positiveInt(app: App, key: string, fallback: number): number {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`Context ${key} must be a positive integer (milliseconds), got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function percentage(app: App, key: string, fallback: number): number {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 100) {
    throw new Error(`Context ${key} must be an integer percentage from 0 to 100, got ${JSON.stringify(raw)}.`);
  }
  return value;
}

function flag(app: App, key: string, fallback: boolean): boolean {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`Context ${key} must be true or false, got ${JSON.stringify(raw)}.`);
}

/** EventBridge rates are whole minutes. */
function wholeMinutesInSeconds(app: App, key: string, fallback: number): number {
  const raw: unknown = app.node.tryGetContext(key) ?? fallback;
  const value = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 60 || value % 60 !== 0) {
    throw new Error(`Context ${key} must be a whole number of minutes in seconds (60, 120, ...), got ${JSON.stringify(raw)}.`);
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
    settings: {
      sessionTimeoutMs: positiveInt(app, 'sessionTimeoutMs', 9000),
      produceAckTimeoutMs: positiveInt(app, 'produceAckTimeoutMs', 10000),
      produceAckPollMs: positiveInt(app, 'produceAckPollMs', 50),
      replicaLagMaxMs: positiveInt(app, 'replicaLagMaxMs', 30000),
      // Kafka's defaults: auto.leader.rebalance.enable true, leader.imbalance.per.broker.percentage 10,
      // leader.imbalance.check.interval.seconds 300.
      autoLeaderRebalanceEnable: flag(app, 'autoLeaderRebalanceEnable', true),
      replicateOnProduce: flag(app, 'replicateOnProduce', true),
      leaderImbalancePerBrokerPercentage: percentage(app, 'leaderImbalancePerBrokerPercentage', 10),
      leaderImbalanceCheckIntervalSeconds: wholeMinutesInSeconds(app, 'leaderImbalanceCheckIntervalSeconds', 300),
    },
  };
}
