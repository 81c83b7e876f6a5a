import { createTopic } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.createTopic);

/** Invoke with `{ topic, partitions, replicationFactor, minInsyncReplicas?, uncleanLeaderElection? }`. */
export const handler = invokeHandler((payload) => createTopic(deps, payload));
