import { sweepExpiredBrokers } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.sweep);

/**
 * EventBridge schedule (rate(1 minute)); the event carries nothing the sweep needs.
 * Deletes heartbeats past their deadline, because real DynamoDB's TTL deletes
 * lazily (minutes to days) and LocalStack's hourly: the REMOVE this produces is
 * what the failure detector reacts to.
 */
export const handler = invokeHandler('sweep', () => sweepExpiredBrokers(deps));
