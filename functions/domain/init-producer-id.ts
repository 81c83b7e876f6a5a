/**
 * Kafka's InitProducerId for an idempotent producer: a producer id no one else has,
 * at epoch 0. The producer numbers its batches per partition from sequence 0, and
 * the leaders use (id, epoch, sequence) to write each batch once however often it
 * is retried.
 */
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../protocol/messages.js';
import type { Deps } from '../ports/index.js';
import { ValidationError } from './errors.js';
import { expectObject } from './validation.js';

/** Takes no fields (Kafka's transactional id is not supported): `{}` or no payload. */
export function parseInitProducerIdRequest(input: unknown): InitProducerIdRequest {
  if (input === undefined || input === null) return {};
  const fields = expectObject(input, 'request');
  const unknown = Object.keys(fields);
  if (unknown.length > 0) {
    throw new ValidationError(
      `InitProducerId takes no fields (transactional ids are not supported), got ${unknown.map((f) => `"${f}"`).join(', ')}`,
    );
  }
  return {};
}

export async function initProducerId(deps: Deps, input: unknown): Promise<InitProducerIdResponse> {
  parseInitProducerIdRequest(input);
  return { producerId: await deps.metadata.allocateProducerId(), producerEpoch: 0 };
}
