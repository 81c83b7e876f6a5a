import { electPreferredLeaders } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.electLeaders);

/**
 * Invoke with `{}`, `{ topic }` or `{ topic, partitions: [1, 3] }`: preferred-leader election, moving each
 * partition to replicas[0] where it is alive and in the ISR. Returns the leadership events it caused.
 */
export const handler = invokeHandler('electLeaders', (payload) => electPreferredLeaders(deps, payload));
