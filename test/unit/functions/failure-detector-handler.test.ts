/**
 * The failure detector's handler and a heartbeat-table row it cannot read (security probe M3):
 * retrying such a record could never succeed and would hold back the other brokers' records
 * behind it, so it is reported and passed over; a record the stream itself mangled still fails.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEPENDENCY_ENV, FUNCTIONS, dependenciesOf } from '../../../functions/function-table.js';
import { logger } from '../../../functions/logger.js';
import { settingsEnv } from '../../factories/settings-env.js';


/** H's row as the probe planted it: no expiresAt. */
const plantedImage = { brokerId: { S: 'H' }, incarnation: { N: '1' }, lastHeartbeatAt: { N: '1000' }, deadlineMs: { N: '10000' } };

const record = (sequenceNumber: string, eventName: DynamoDBRecord['eventName'], images: Partial<NonNullable<DynamoDBRecord['dynamodb']>>): DynamoDBRecord => ({
  eventID: `e${sequenceNumber}`,
  eventName,
  dynamodb: { SequenceNumber: sequenceNumber, Keys: { brokerId: { S: 'H' } }, ...images },
});

let handler: (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

beforeAll(async () => {
  for (const [name, value] of Object.entries(settingsEnv)) vi.stubEnv(name, value);
  for (const dependency of dependenciesOf(FUNCTIONS.failureDetector)) vi.stubEnv(DEPENDENCY_ENV[dependency], `${dependency}-resource`);
  // Wired at import, as at a cold start; no store is reached by the records below.
  ({ handler } = await import('../../../functions/handlers/failure-detector.js'));
});

afterEach(() => vi.restoreAllMocks());

describe('failure-detector handler', () => {
  it('passes over an INSERT or REMOVE whose image is not a readable heartbeat, reporting it, and goes on with the batch', async () => {
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = await handler({
      Records: [
        record('1', 'INSERT', { NewImage: plantedImage }),
        record('2', 'MODIFY', { NewImage: plantedImage, OldImage: plantedImage }),
        record('3', 'REMOVE', { OldImage: plantedImage }),
      ],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    const reports = errors.mock.calls.map(([, attributes]) => attributes);
    expect(reports).toEqual([
      expect.objectContaining({ malformedBrokerItems: 1, items: [{ key: 'H', reason: expect.stringMatching(/^INSERT: .*"expiresAt"/) }] }),
      expect.objectContaining({ malformedBrokerItems: 1, items: [{ key: 'H', reason: expect.stringMatching(/^REMOVE: .*"expiresAt"/) }] }),
    ]);
  });

  it('still fails a record the stream delivered without its image, so Lambda retries from it', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const result = await handler({ Records: [record('7', 'REMOVE', {})] });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
  });
});
