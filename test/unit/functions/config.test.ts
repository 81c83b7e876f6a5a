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
  requirePositiveInt,
} from '../../../functions/config.js';

const complete = {
  BROKERS_TABLE: 'brokers',
  METADATA_TABLE: 'metadata',
  LOG_TABLE: 'log',
  LEADERSHIP_EVENTS_QUEUE_URL: 'http://127.0.0.1:4566/123456789012/events.fifo',
  SESSION_TIMEOUT_MS: '9000',
  PRODUCE_ACK_TIMEOUT_MS: '3000',
  PRODUCE_ACK_POLL_MS: '25',
  REPLICA_LAG_MAX_MS: '30000',
  PRODUCER_ID_EXPIRATION_MS: '86400000',
  AUTO_LEADER_REBALANCE_ENABLE: 'true',
  REPLICATE_ON_PRODUCE: 'true',
  LEADER_IMBALANCE_PER_BROKER_PERCENTAGE: '10',
  LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS: '300',
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

describe('requirePositiveInt', () => {
  it('parses a positive integer', () => {
    expect(requirePositiveInt('SESSION_TIMEOUT_MS', { SESSION_TIMEOUT_MS: ' 9000 ' })).toBe(9000);
  });

  it.each(['0', '-5', '1.5', 'abc', '12ms', '1e400', '9007199254740993'])('refuses %j, naming the variable and the value', (raw) => {
    const read = () => requirePositiveInt('SESSION_TIMEOUT_MS', { SESSION_TIMEOUT_MS: raw });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(`Environment variable SESSION_TIMEOUT_MS must be a positive integer, got "${raw}".`);
  });

  it('throws the missing-variable error when it is unset', () => {
    expect(() => requirePositiveInt('SESSION_TIMEOUT_MS', {})).toThrow(
      'Environment variable SESSION_TIMEOUT_MS is required but not set.',
    );
  });
});

describe('the per-dependency readers', () => {
  it('read a complete environment', () => {
    expect(brokersTableConfig(complete)).toEqual({ brokersTable: 'brokers' });
    expect(metadataTableConfig(complete)).toEqual({ metadataTable: 'metadata' });
    expect(partitionLogConfig(complete)).toEqual({ logTable: 'log', metadataTable: 'metadata' });
    expect(leadershipEventsConfig(complete)).toEqual({ queueUrl: complete.LEADERSHIP_EVENTS_QUEUE_URL });
    expect(leadershipSettings(complete)).toEqual({
      sessionTimeoutMs: 9000,
      produceAckTimeoutMs: 3000,
      produceAckPollMs: 25,
      replicaLagMaxMs: 30000,
      producerIdExpirationMs: 86400000,
      autoLeaderRebalanceEnable: true,
      replicateOnProduce: true,
      leaderImbalancePerBrokerPercentage: 10,
      leaderImbalanceCheckIntervalSeconds: 300,
    });
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
