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
import { SETTINGS, SETTING_NAMES, buildSettings, parseSetting, type LeadershipSettings, type SettingName } from '../protocol/settings.js';

/** The variable names, shared with the CDK stack that sets them; the settings' come from their table. */
export const ENV = {
  brokersTable: 'BROKERS_TABLE',
  metadataTable: 'METADATA_TABLE',
  logTable: 'LOG_TABLE',
  leadershipEventsQueueUrl: 'LEADERSHIP_EVENTS_QUEUE_URL',
  objectsBucket: 'OBJECTS_BUCKET',
  ...(Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].env])) as Record<SettingName, string>),
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

export const brokersTableConfig = (env?: Env) => ({ brokersTable: requireEnv(ENV.brokersTable, env) });

export const metadataTableConfig = (env?: Env) => ({ metadataTable: requireEnv(ENV.metadataTable, env) });

/** The partition log also writes LEOs and checks epochs in the metadata table. */
export const partitionLogConfig = (env?: Env) => ({
  logTable: requireEnv(ENV.logTable, env),
  ...metadataTableConfig(env),
});

/** Diskless topics' objects: the bucket. Path-style addressing, when an endpoint needs it, is the SDK's choice (an IP endpoint gets it). */
export const objectStoreConfig = (env?: Env) => ({ bucket: requireEnv(ENV.objectsBucket, env) });

export const leadershipEventsConfig = (env?: Env) => ({
  queueUrl: requireEnv(ENV.leadershipEventsQueueUrl, env),
});

/** One setting from its variable, checked by its kind; throws naming the variable otherwise. */
export function requireSetting<K extends SettingName>(name: K, env: Env = process.env): LeadershipSettings[K] {
  const { env: variable, kind } = SETTINGS[name];
  const raw = requireEnv(variable, env);
  const value = parseSetting(name, raw);
  if (value === undefined) throw new ConfigError(`Environment variable ${variable} must be ${kind.expected}, got "${raw}".`);
  return value;
}

/** Every setting of the table, from its variable. */
export const leadershipSettings = (env?: Env): LeadershipSettings => buildSettings((name) => requireSetting(name, env));
