import { heartbeat } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.heartbeat);

/** Invoke with `{ brokerId, credential, incarnation? }`: authenticates the broker, registers it or renews its lease. */
export const handler = invokeHandler('heartbeat', (payload) => heartbeat(deps, payload));
