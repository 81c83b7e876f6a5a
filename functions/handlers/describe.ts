import { describe } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.describe);

/** Invoke with `{ topic? }`: topics, partitions (leader, ISR, epoch, high watermark) and brokers. */
export const handler = invokeHandler('describe', (payload) => describe(deps, payload));
