import { heartbeat } from '../domain/index.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(['brokers']);

/** Invoke with `{ brokerId, incarnation? }`: registers the broker or renews its lease. */
export const handler = invokeHandler((payload) => heartbeat(deps, payload));
