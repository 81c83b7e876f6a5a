import { serveConsumer } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.consume);

/**
 * Invoke with `{ topic, partition, offset?, maxRecords?, currentLeaderEpoch? }`: reads from the leader below the
 * high watermark; with `{ partitions: [those], maxBytes? }`: a fetch of many partitions, each answered or refused on
 * its own; or with `{ topic, partition, offsetsForLeaderEpoch, currentLeaderEpoch? }`: where that epoch ends on the
 * leader's log (KIP-320, truncation detection).
 */
export const handler = invokeHandler('consume', (payload) => serveConsumer(deps, payload));
