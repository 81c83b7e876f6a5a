import { serveGroups } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { wireGroups } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wireGroups(FUNCTIONS.groups);

/** Invoke with `{ api, ...thatApiRequest }` (protocol/messages.ts GroupsRequest): Kafka's group APIs. */
export const handler = invokeHandler('groups', (payload) => serveGroups(deps, payload));
