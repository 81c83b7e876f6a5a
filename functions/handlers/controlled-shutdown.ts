import { controlledShutdown } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.controlledShutdown);

/**
 * Invoke with `{ brokerId, incarnation }` (the incarnation its last heartbeat returned): moves the broker's
 * leaderships to in-sync replicas, takes it out of the ISRs, then deletes its lease.
 */
export const handler = invokeHandler((payload) => controlledShutdown(deps, payload));
