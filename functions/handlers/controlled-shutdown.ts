import { controlledShutdown } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.controlledShutdown);

/**
 * Invoke with `{ brokerId, incarnation, credential }` (the incarnation its last heartbeat returned, the credential
 * RegisterBroker gave it): moves the broker's leaderships to in-sync replicas, takes it out of the ISRs, then
 * deletes its lease.
 */
export const handler = invokeHandler('controlledShutdown', (payload) => controlledShutdown(deps, payload));
