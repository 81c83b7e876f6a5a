import { initProducerId } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.initProducerId);

/** Invoke with `{}`: returns `{ producerId, producerEpoch }` for an idempotent producer. */
export const handler = invokeHandler('initProducerId', (payload) => initProducerId(deps, payload));
