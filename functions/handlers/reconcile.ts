import { reconcile } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.reconcile);

/**
 * EventBridge schedule (rate(1 minute)), or invoke with `{}`: brings every
 * partition to where the stream triggers should have, so a dropped or failed
 * stream record never leaves a partition stuck.
 */
export const handler = invokeHandler('reconcile', () => reconcile(deps));
