import { registerBroker } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.registerBroker);

/**
 * Invoke with `{ brokerId, credential? }` (an admin's call, Kafka's AlterUserScramCredentials): registers the
 * broker's credential, or rotates it; answers `{ brokerId, credential, rotated }`, the only time the credential is shown.
 */
export const handler = invokeHandler('registerBroker', (payload) => registerBroker(deps, payload));
