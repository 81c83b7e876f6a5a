/** The one place errors leave a handler: domain refusals by their class name, faults as they are. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DomainError,
  NotLeaderError,
  StaleEpochError,
  TopicExistsError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { invokeHandler, mapDomainErrors, toLambdaError } from '../../../functions/handlers/error-mapper.js';
import { logger } from '../../../functions/logger.js';

beforeEach(() => {
  // The mapper logs every refusal and fault; the tests only look at what it throws.
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  vi.spyOn(logger, 'error').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('toLambdaError', () => {
  it.each([
    new ValidationError('partitions: must be a positive integer'),
    new TopicExistsError('topic "orders" already exists'),
    new StaleEpochError('Partition orders-0 changed concurrently: its version is no longer 3.'),
    new NotLeaderError('B is not the leader of orders-0'),
  ])('turns a $name into a plain Error named after the domain class, message kept', (refusal) => {
    const mapped = toLambdaError(refusal);

    expect(mapped).toBeInstanceOf(Error);
    expect(mapped).not.toBeInstanceOf(DomainError);
    expect(mapped).not.toBe(refusal);
    expect(mapped.name).toBe(refusal.constructor.name);
    expect(mapped.message).toBe(refusal.message);
  });

  it('leaves the domain code behind', () => {
    expect(toLambdaError(new ValidationError('topic: required'))).not.toHaveProperty('code');
  });

  it('returns any other Error as it is', () => {
    const fault = new TypeError("Cannot read properties of undefined (reading 'leader')");

    expect(toLambdaError(fault)).toBe(fault);
  });

  it('wraps a thrown non-Error into an Error carrying its text', () => {
    const mapped = toLambdaError('boom');

    expect(mapped).toBeInstanceOf(Error);
    expect(mapped.message).toBe('boom');
  });
});

describe('mapDomainErrors', () => {
  it('passes the result through', async () => {
    await expect(mapDomainErrors(() => Promise.resolve(42))).resolves.toBe(42);
  });

  it('rethrows a domain refusal under the domain class name', async () => {
    await expect(
      mapDomainErrors(() => Promise.reject(new TopicExistsError('topic "orders" already exists'))),
    ).rejects.toMatchObject({ name: 'TopicExistsError', message: 'topic "orders" already exists' });
  });

  it('rethrows anything else as it is', async () => {
    const fault = new Error('DynamoDB is down');

    await expect(
      mapDomainErrors(() => Promise.reject(fault)),
    ).rejects.toBe(fault);
  });
});

describe('invokeHandler', () => {
  it('hands the payload to the use case and returns its result', async () => {
    const answer = { brokerId: 'A', credential: 'c', rotated: false };
    const handler = invokeHandler('registerBroker', (payload: unknown) => Promise.resolve({ ...answer, brokerId: String((payload as { brokerId: string }).brokerId) }));

    await expect(handler({ brokerId: 'B' })).resolves.toEqual({ ...answer, brokerId: 'B' });
  });

  it('maps what the use case throws', async () => {
    const handler = invokeHandler('registerBroker', () => Promise.reject(new ValidationError('brokerId: required')));

    await expect(handler({})).rejects.toMatchObject({ name: 'ValidationError', message: 'brokerId: required' });
  });
});
