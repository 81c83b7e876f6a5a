import { describe } from '../domain/index.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(['brokers', 'metadata']);

/** Invoke with `{ topic? }`: topics, partitions (leader, ISR, epoch, high watermark) and brokers. */
export const handler = invokeHandler((payload) => describe(deps, payload));
