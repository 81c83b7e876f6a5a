import { sweepGroups } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wireGroups } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wireGroups(FUNCTIONS.sweepGroups);

/**
 * EventBridge schedule (rate(1 minute)). A group whose members call is tidied by their own
 * requests; this one reaches the groups nobody calls (every member gone) and the offsets of
 * empty groups past their retention.
 */
export const handler = invokeHandler('sweepGroups', () => sweepGroups(deps));
