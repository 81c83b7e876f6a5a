import { produce } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.produce);

/** Invoke with `{ topic, partition, records, acks?, currentLeaderEpoch? (alias leaderEpoch) }`: appends on the leader and waits for the ISR (acks=all). */
export const handler = invokeHandler('produce', (payload) => produce(deps, payload));
