import { autoRebalance } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.autoRebalance);

/**
 * EventBridge schedule (leader.imbalance.check.interval.seconds, default rate(5 minutes)), or invoke with `{}`:
 * preferred-leader election for the partitions of every broker whose imbalance exceeds
 * leader.imbalance.per.broker.percentage; nothing when auto.leader.rebalance.enable is off.
 */
export const handler = invokeHandler('autoRebalance', () => autoRebalance(deps));
