import { describe, expect, it } from 'vitest';
import * as domainErrors from '../../../functions/domain/errors.js';
import { MalformedItemError } from '../../../functions/adapters/dynamodb/items.js';
import { EventPublishError } from '../../../functions/adapters/sqs/event-publisher.js';
import { ConfigError } from '../../../functions/config.js';
import { ERROR_CATALOGUE, ERROR_NAMES, catalogued, isLeadershipMovedError, isRetriableError } from '../../../protocol/errors.js';

type ErrorClass = new (...args: never[]) => Error;

const isErrorClass = (value: unknown): value is ErrorClass =>
  typeof value === 'function' && (value.prototype as unknown) instanceof Error;

/** Every error class domain/errors.ts exports that can be made (the abstract DomainError is the base, not an answer). */
const DOMAIN_ERROR_CLASSES: Array<[string, ErrorClass]> = Object.entries(domainErrors as Record<string, unknown>).flatMap(
  ([name, value]): Array<[string, ErrorClass]> => (isErrorClass(value) && name !== 'DomainError' ? [[name, value]] : []),
);

/** The errors outside the domain that still reach a caller as a function's errorType (faults). */
const OTHER_ANSWERED_ERRORS: Array<[string, ErrorClass]> = [
  ['MalformedItemError', MalformedItemError],
  ['EventPublishError', EventPublishError],
  ['ConfigError', ConfigError],
];

const instance = (Class: ErrorClass): Error =>
  Class === domainErrors.BulkWriteError ? new domainErrors.BulkWriteError([]) : new (Class as unknown as new (message: string) => Error)('refused');

describe('the error catalogue', () => {
  it.each(DOMAIN_ERROR_CLASSES)('holds %s, under the name its errors carry', (className, Class) => {
    const error = instance(Class);
    expect(error.name).toBe(className);
    expect(catalogued(error.name)).toBe(className);
  });

  it('holds exactly the exported error classes of domain/errors.ts and the faults that reach a caller', () => {
    const answered = [...DOMAIN_ERROR_CLASSES, ...OTHER_ANSWERED_ERRORS].map(([name]) => name).sort();
    expect([...ERROR_NAMES].sort()).toEqual(answered);
  });

  it.each(OTHER_ANSWERED_ERRORS)('names %s as its errors are named', (name, Class) => {
    expect(instance(Class).name).toBe(name);
  });

  it("gives each domain error its Kafka code from the catalogue", () => {
    for (const [, Class] of DOMAIN_ERROR_CLASSES) {
      const error = instance(Class);
      if (error instanceof domainErrors.DomainError) expect(error.code).toBe(ERROR_CATALOGUE[error.name].code);
    }
    expect(new domainErrors.FencedLeaderEpochError('stale')).toMatchObject({ name: 'FencedLeaderEpochError', code: 'FENCED_LEADER_EPOCH' });
  });

  it('moves leadership only with errors a retry may clear', () => {
    for (const name of ERROR_NAMES) if (ERROR_CATALOGUE[name].leadershipMoved) expect(ERROR_CATALOGUE[name].retriable, name).toBe(true);
    expect(ERROR_NAMES.filter(isLeadershipMovedError).sort()).toEqual(['FencedLeaderEpochError', 'NotLeaderError', 'StaleEpochError']);
  });

  it('retries the transitions of the cluster, never bad input or faults', () => {
    expect(isRetriableError('PartitionOfflineError')).toBe(true);
    expect(isRetriableError('ProducerStateFullError')).toBe(true);
    expect(isRetriableError('ValidationError')).toBe(false);
    expect(isRetriableError('BulkWriteError')).toBe(false);
  });

  it('knows nothing of names outside it, including inherited properties', () => {
    expect(catalogued('Sandbox.Timedout')).toBeUndefined();
    expect(catalogued('toString')).toBeUndefined();
    expect(isRetriableError('constructor')).toBe(false);
  });
});
