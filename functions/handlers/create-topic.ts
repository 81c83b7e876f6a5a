import { createTopic } from '../domain/index.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(['brokers', 'metadata', 'events']);

/** Invoke with `{ topic, partitions, replicationFactor, minInsyncReplicas?, uncleanLeaderElection? }`. */
export const handler = invokeHandler((payload) => createTopic(deps, payload));
