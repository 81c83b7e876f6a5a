/** Environment configuration: a missing or malformed variable fails with its name, at wiring time. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  ENV,
  brokersTableConfig,
  leadershipEventsConfig,
  leadershipSettings,
  metadataTableConfig,
  partitionLogConfig,
  requireEnv,
  requireSetting,
} from '../../../functions/config.js';
import { SETTINGS, SETTING_NAMES, defaultSettings, settingsEnvironment } from '../../../protocol/settings.js';
import { anotherValue } from '../../factories/settings-values.js';

const tunedSettings = defaultSettings({ produceAckTimeoutMs: 3000, produceAckPollMs: 25 });

const complete: Record<string, string> = {
  BROKERS_TABLE: 'brokers',
  METADATA_TABLE: 'metadata',
  LOG_TABLE: 'log',
  LEADERSHIP_EVENTS_QUEUE_URL: 'http://127.0.0.1:4566/123456789012/events.fifo',
  ...settingsEnvironment(tunedSettings),
};

const without = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(complete).filter(([key]) => key !== name));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('requireEnv', () => {
  it('returns the value, trimmed', () => {
    expect(requireEnv('BROKERS_TABLE', { BROKERS_TABLE: '  brokers \n' })).toBe('brokers');
  });

  it.each([
    ['unset', {}],
    ['empty', { BROKERS_TABLE: '' }],
    ['blank', { BROKERS_TABLE: '   ' }],
  ])('throws a ConfigError naming the variable when it is %s', (_, env) => {
    expect(() => requireEnv('BROKERS_TABLE', env)).toThrow(ConfigError);
    expect(() => requireEnv('BROKERS_TABLE', env)).toThrow('Environment variable BROKERS_TABLE is required but not set.');
  });

  it('reads process.env by default', () => {
    vi.stubEnv('CONFIG_TEST_VARIABLE', 'from-process');
    expect(requireEnv('CONFIG_TEST_VARIABLE')).toBe('from-process');
    vi.stubEnv('CONFIG_TEST_VARIABLE', '');
    expect(() => requireEnv('CONFIG_TEST_VARIABLE')).toThrow('CONFIG_TEST_VARIABLE');
  });

  it('names itself ConfigError', () => {
    expect(() => requireEnv('X', {})).toThrow(expect.objectContaining({ name: 'ConfigError' }));
  });
});

describe('requireSetting', () => {
  it('parses a positive integer', () => {
    expect(requireSetting('sessionTimeoutMs', { SESSION_TIMEOUT_MS: ' 9000 ' })).toBe(9000);
  });

  it.each(['0', '-5', '1.5', 'abc', '12ms', '1e400', '9007199254740993'])('refuses %j, naming the variable and the value', (raw) => {
    const read = () => requireSetting('sessionTimeoutMs', { SESSION_TIMEOUT_MS: raw });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`Environment variable SESSION_TIMEOUT_MS must be a positive integer, got "${raw}".`);
  });

  it('throws the missing-variable error when it is unset', () => {
    expect(() => requireSetting('sessionTimeoutMs', {})).toThrow('Environment variable SESSION_TIMEOUT_MS is required but not set.');
  });

  it('takes the rebalance interval in whole minutes only, as the stack does', () => {
    expect(requireSetting('leaderImbalanceCheckIntervalSeconds', { LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: '600' })).toBe(600);
    expect(() => requireSetting('leaderImbalanceCheckIntervalSeconds', { LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: '90' })).toThrow(
      'Environment variable LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS must be a whole number of minutes in seconds (60, 120, ...), got "90".',
    );
  });
});

describe('every setting of the table', () => {
  it('has the variable name ENV gives it', () => {
    for (const name of SETTING_NAMES) expect(ENV[name]).toBe(SETTINGS[name].env);
  });

  it.each(SETTING_NAMES)('%s is read from its variable', (name) => {
    const value = anotherValue(name);
    const env = { ...settingsEnvironment(tunedSettings), [SETTINGS[name].env]: String(value) };
    expect(leadershipSettings(env)).toEqual({ ...tunedSettings, [name]: value });
  });

  it.each(SETTING_NAMES)('a malformed %s fails naming its variable and the value', (name) => {
    const { env: variable, kind } = SETTINGS[name];
    const read = () => leadershipSettings({ ...complete, [variable]: 'soon' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`Environment variable ${variable} must be ${kind.expected}, got "soon".`);
  });

  it.each(SETTING_NAMES)('a missing %s fails naming its variable', (name) => {
    const { env: variable } = SETTINGS[name];
    const { [variable]: _, ...rest } = complete;
    expect(() => leadershipSettings(rest)).toThrow(`Environment variable ${variable} is required but not set.`);
  });
});

describe('the per-dependency readers', () => {
  it('read a complete environment', () => {
    expect(brokersTableConfig(complete)).toEqual({ brokersTable: 'brokers' });
    expect(metadataTableConfig(complete)).toEqual({ metadataTable: 'metadata' });
    expect(partitionLogConfig(complete)).toEqual({ logTable: 'log', metadataTable: 'metadata' });
    expect(leadershipEventsConfig(complete)).toEqual({ queueUrl: complete.LEADERSHIP_EVENTS_QUEUE_URL });
    expect(leadershipSettings(complete)).toEqual(tunedSettings);
    expect(leadershipSettings(complete)).toMatchObject({ sessionTimeoutMs: 9000, produceAckTimeoutMs: 3000, produceAckPollMs: 25 });
  });

  it('reads the eligible leader replicas switch strictly, naming the variable', () => {
    expect(leadershipSettings({ ...complete, ELIGIBLE_LEADER_REPLICAS_ENABLED: 'false' }).eligibleLeaderReplicasEnabled).toBe(false);
    expect(() => leadershipSettings({ ...complete, ELIGIBLE_LEADER_REPLICAS_ENABLED: 'on' })).toThrow(/ELIGIBLE_LEADER_REPLICAS_ENABLED/);
  });

  it('reads the rebalance switch and percentage strictly, naming the variable', () => {
    expect(leadershipSettings({ ...complete, AUTO_LEADER_REBALANCE_ENABLE: 'false' }).autoLeaderRebalanceEnable).toBe(false);
    expect(() => leadershipSettings({ ...complete, AUTO_LEADER_REBALANCE_ENABLE: 'yes' })).toThrow(/AUTO_LEADER_REBALANCE_ENABLE/);
    expect(leadershipSettings({ ...complete, LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '0' }).leaderImbalancePerBrokerPercentage).toBe(0);
    expect(() => leadershipSettings({ ...complete, LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '101' })).toThrow(
      /LEADER_IMBALANCE_PER_BROKER_PERCENTAGE/,
    );
  });

  it('need only their own variables', () => {
    expect(brokersTableConfig({ BROKERS_TABLE: 'b' })).toEqual({ brokersTable: 'b' });
    expect(partitionLogConfig({ LOG_TABLE: 'l', METADATA_TABLE: 'm' })).toEqual({ logTable: 'l', metadataTable: 'm' });
  });

  it.each([
    [ENV.brokersTable, brokersTableConfig],
    [ENV.metadataTable, metadataTableConfig],
    [ENV.logTable, partitionLogConfig],
    [ENV.metadataTable, partitionLogConfig],
    [ENV.leadershipEventsQueueUrl, leadershipEventsConfig],
    [ENV.sessionTimeoutMs, leadershipSettings],
    [ENV.produceAckTimeoutMs, leadershipSettings],
    [ENV.produceAckPollMs, leadershipSettings],
    [ENV.replicaLagMaxMs, leadershipSettings],
    [ENV.producerIdExpirationMs, leadershipSettings],
    [ENV.autoLeaderRebalanceEnable, leadershipSettings],
    [ENV.replicateOnProduce, leadershipSettings],
    [ENV.leaderImbalancePerBrokerPercentage, leadershipSettings],
    [ENV.leaderImbalanceCheckIntervalSeconds, leadershipSettings],
    [ENV.eligibleLeaderReplicasEnabled, leadershipSettings],
  ])('a missing %s fails with its name', (name, read) => {
    expect(() => read(without(name))).toThrow(ConfigError);
    expect(() => read(without(name))).toThrow(`Environment variable ${name} is required but not set.`);
  });

  it.each([ENV.sessionTimeoutMs, ENV.produceAckTimeoutMs, ENV.produceAckPollMs, ENV.replicaLagMaxMs, ENV.producerIdExpirationMs])('a malformed %s fails with its name', (name) => {
    expect(() => leadershipSettings({ ...complete, [name]: 'soon' })).toThrow(
      `Environment variable ${name} must be a positive integer, got "soon".`,
    );
  });
});
