import { createTopic } from '../domain/index.js';
import { FUNCTIONS } from '../function-table.js';
import { logger } from '../logger.js';
import { wire } from '../wiring.js';
import { invokeHandler } from './error-mapper.js';

const deps = wire(FUNCTIONS.createTopic);

/**
 * Invoke with `{ topic, partitions, replicationFactor, minInsyncReplicas?, uncleanLeaderElection? }`. The topic is
 * created even when its leadership events could not be published (`eventsPublished: false`), which is logged.
 */
export const handler = invokeHandler('createTopic', async (payload) => {
  const created = await createTopic(deps, payload);
  if (!created.eventsPublished) logger.error('topic created, but its CREATED leadership events were not published', { topic: created.topic, reason: created.eventsError });
  return created;
});
