import { consume } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.consume);

/** Invoke with `{ topic, partition, offset?, maxRecords?, leaderEpoch? }`: reads from the leader below the high watermark. */
export const handler = invokeHandler((payload) => consume(deps, payload));
