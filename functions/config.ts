/**
 * Environment configuration. Nothing here runs by itself: the readers are called
 * while a handler's wiring loads (cold start), so a missing or malformed
 * variable fails the first invocation with its name instead of surfacing later
 * as an empty table name. Each reader covers one dependency, so a function that
 * needs only the heartbeat table does not have to be given the log table.
 *
 * No endpoints here: SDK v3 reads AWS_ENDPOINT_URL (LocalStack, moto) by itself.
 * POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL are read by the Powertools logger.
 */
import type { LeadershipSettings } from './ports/index.js';

/** The variable names, shared with the CDK stack that sets them. */
export const ENV = {
  brokersTable: 'BROKERS_TABLE',
  metadataTable: 'METADATA_TABLE',
  logTable: 'LOG_TABLE',
  leadershipEventsQueueUrl: 'LEADERSHIP_EVENTS_QUEUE_URL',
  sessionTimeoutMs: 'SESSION_TIMEOUT_MS',
  produceAckTimeoutMs: 'PRODUCE_ACK_TIMEOUT_MS',
  produceAckPollMs: 'PRODUCE_ACK_POLL_MS',
  replicaLagMaxMs: 'REPLICA_LAG_MAX_MS',
  producerIdExpirationMs: 'PRODUCER_ID_EXPIRATION_MS',
  autoLeaderRebalanceEnable: 'AUTO_LEADER_REBALANCE_ENABLE',
  replicateOnProduce: 'REPLICATE_ON_PRODUCE',
  leaderImbalancePerBrokerPercentage: 'LEADER_IMBALANCE_PER_BROKER_PERCENTAGE',
  leaderImbalanceCheckIntervalSeconds: 'LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS',
} as const;

/** A function was deployed without a variable its wiring needs, or with a malformed one. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** The variable's value; throws naming it when it is unset or blank. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required but not set.`);
  return value;
}

/** A positive integer variable (milliseconds, counts); throws naming it otherwise. */
export function requirePositiveInt(name: string, env: Env = process.env): number {
  const raw = requireEnv(name, env);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`Environment variable ${name} must be a positive integer, got "${raw}".`);
  }
  return value;
}

/** "true" or "false"; throws naming the variable otherwise. */
export function requireBoolean(name: string, env: Env = process.env): boolean {
  const raw = requireEnv(name, env);
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`Environment variable ${name} must be "true" or "false", got "${raw}".`);
  return raw === 'true';
}

/** An integer percentage, 0 to 100; throws naming the variable otherwise. */
export function requirePercentage(name: string, env: Env = process.env): number {
  const raw = requireEnv(name, env);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || value > 100) {
    throw new ConfigError(`Environment variable ${name} must be an integer from 0 to 100, got "${raw}".`);
  }
  return value;
}

export const brokersTableConfig = (env?: Env) => ({ brokersTable: requireEnv(ENV.brokersTable, env) });

export const metadataTableConfig = (env?: Env) => ({ metadataTable: requireEnv(ENV.metadataTable, env) });

/** The partition log also writes LEOs and checks epochs in the metadata table. */
export const partitionLogConfig = (env?: Env) => ({
  logTable: requireEnv(ENV.logTable, env),
  ...metadataTableConfig(env),
});

export const leadershipEventsConfig = (env?: Env) => ({
  queueUrl: requireEnv(ENV.leadershipEventsQueueUrl, env),
});

export const leadershipSettings = (env?: Env): LeadershipSettings => ({
  sessionTimeoutMs: requirePositiveInt(ENV.sessionTimeoutMs, env),
  produceAckTimeoutMs: requirePositiveInt(ENV.produceAckTimeoutMs, env),
  produceAckPollMs: requirePositiveInt(ENV.produceAckPollMs, env),
  replicaLagMaxMs: requirePositiveInt(ENV.replicaLagMaxMs, env),
  producerIdExpirationMs: requirePositiveInt(ENV.producerIdExpirationMs, env),
  autoLeaderRebalanceEnable: requireBoolean(ENV.autoLeaderRebalanceEnable, env),
  replicateOnProduce: requireBoolean(ENV.replicateOnProduce, env),
  leaderImbalancePerBrokerPercentage: requirePercentage(ENV.leaderImbalancePerBrokerPercentage, env),
  leaderImbalanceCheckIntervalSeconds: requirePositiveInt(ENV.leaderImbalanceCheckIntervalSeconds, env),
});
