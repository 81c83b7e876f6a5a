import { ENV } from '../../functions/config.js';

/** Every tunable a function reads at cold start, as the stack sets them by default. */
export const settingsEnv: Readonly<Record<string, string>> = {
  [ENV.sessionTimeoutMs]: '9000',
  [ENV.produceAckTimeoutMs]: '3000',
  [ENV.produceAckPollMs]: '25',
  [ENV.replicaLagMaxMs]: '30000',
  [ENV.producerIdExpirationMs]: '86400000',
  [ENV.autoLeaderRebalanceEnable]: 'true',
  [ENV.replicateOnProduce]: 'true',
  [ENV.leaderImbalancePerBrokerPercentage]: '10',
  [ENV.leaderImbalanceCheckIntervalSeconds]: '300',
};
