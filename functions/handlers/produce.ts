import { isProduceBatchesRequest, produce, produceBatches } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.produce);

/**
 * Invoke with `{ topic, partition, records, acks?, currentLeaderEpoch? (alias leaderEpoch) }`: appends on the leader
 * and waits for the ISR (acks=all); or with `{ batches: [those, without acks], acks? }`: several partitions at once,
 * each batch answered or refused on its own, a diskless topic's batches written to S3 as one object.
 */
export const handler = invokeHandler('produce', (payload) => (isProduceBatchesRequest(payload) ? produceBatches(deps, payload) : produce(deps, payload)));
