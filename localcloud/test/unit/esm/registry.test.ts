/** The event source mappings' registry and lifecycle, without a data plane (nothing here reaches moto). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventSourceMappings, FilterPatternError, InvalidEventSourceMappingError } from '../../../esm/event-source-mappings.js';
import { FakeLambdaRuntime } from '../../support/fake-runtime.js';
import { sqsMapping } from '../../../testing/mappings.js';

const UNREACHABLE = { awsEndpoint: 'http://127.0.0.1:9', region: 'us-east-1' };

const spec = sqsMapping(
  'f',
  { url: 'http://x/123456789012/q', arn: 'arn:aws:sqs:us-east-1:123456789012:q' },
  { uuid: 'm1' },
);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('EventSourceMappings registry', () => {
  it('upserts, replaces, lists and removes mappings by uuid', () => {
    const esm = new EventSourceMappings(new FakeLambdaRuntime(), UNREACHABLE);
    esm.upsert(spec);
    esm.upsert({ ...spec, batchSize: 5 });
    expect(esm.list()).toEqual([{ ...spec, batchSize: 5 }]);
    expect(esm.get('m1')?.batchSize).toBe(5);
    esm.remove('m1');
    expect(esm.list()).toEqual([]);
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize must be 1..10000'],
    [{ maximumBatchingWindowInSeconds: 301 }, 'maximumBatchingWindowInSeconds must be 0..300'],
    [{ onFailureDestinationArn: 'arn:aws:sns:us-east-1:1:topic' }, 'is not an SQS queue'],
  ])('rejects %j', (override, problem) => {
    const esm = new EventSourceMappings(new FakeLambdaRuntime(), UNREACHABLE);
    expect(() => esm.upsert({ ...spec, ...override })).toThrow(InvalidEventSourceMappingError);
    expect(() => esm.upsert({ ...spec, ...override })).toThrow(problem);
  });

  it('starts no poller for a disabled mapping, and one once it is enabled', async () => {
    const esm = new EventSourceMappings(new FakeLambdaRuntime(), UNREACHABLE);
    const pollers = (esm as unknown as { pollers: Map<string, unknown> }).pollers;
    esm.upsert({ ...spec, enabled: false });
    esm.start();
    expect(pollers.size).toBe(0);
    esm.upsert(spec);
    expect(pollers.size).toBe(1);
    await esm.stop();
  });

  it('rejects an invalid filter pattern at upsert, as Lambda does at CreateEventSourceMapping', () => {
    const esm = new EventSourceMappings(new FakeLambdaRuntime(), UNREACHABLE);
    expect(() => esm.upsert({ ...spec, filterPatterns: ['{"a": "b"}'] })).toThrow(FilterPatternError);
  });
});
