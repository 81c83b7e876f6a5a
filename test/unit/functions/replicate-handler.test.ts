/**
 * The replicate handler and a diskless log item on the stream: its records are read from
 * the object it points into. An object that is gone belonged to a batch that never
 * committed (the sweep deletes only objects no committed batch points into), so the
 * record is passed over; any other failure to read it is retried from that record on.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEPENDENCY_ENV, FUNCTIONS, dependenciesOf } from '../../../functions/function-table.js';
import { logger } from '../../../functions/logger.js';
import { settingsEnv } from '../../factories/settings-env.js';

const refImage = (offset: number) => ({
  replica: { S: 'orders#1#A' },
  offset: { N: String(offset) },
  topic: { S: 'orders' },
  partition: { N: '1' },
  brokerId: { S: 'A' },
  copy: { S: 'leader' },
  lastOffset: { N: String(offset + 1) },
  stored: { M: { object: { S: `objects/202612071723/${offset}-ab` }, start: { N: '40' }, length: { N: '300' } } },
});

const insert = (sequenceNumber: string, offset: number): DynamoDBRecord => ({
  eventID: `e${sequenceNumber}`,
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: sequenceNumber, NewImage: refImage(offset) },
});

let handler: (event: DynamoDBStreamEvent) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>;

beforeAll(async () => {
  for (const [name, value] of Object.entries(settingsEnv)) vi.stubEnv(name, value);
  for (const dependency of dependenciesOf(FUNCTIONS.replicate)) vi.stubEnv(DEPENDENCY_ENV[dependency], `${dependency}-resource`);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  ({ handler } = await import('../../../functions/handlers/replicate.js'));
});

afterEach(() => vi.restoreAllMocks());

const s3Error = (name: string) => Object.assign(new Error(name), { name });

describe('replicate handler, diskless items', () => {
  it('passes over an item whose object is gone (an uncommitted batch), warning', async () => {
    const warnings = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(S3Client.prototype, 'send').mockRejectedValue(s3Error('NoSuchKey'));
    expect(await handler({ Records: [insert('1', 0)] })).toEqual({ batchItemFailures: [] });
    expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/object is gone/), expect.anything());
  });

  it('reports the first item it could not read otherwise, so the batch is retried from it', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    vi.spyOn(S3Client.prototype, 'send').mockRejectedValue(s3Error('AccessDenied'));
    expect(await handler({ Records: [insert('7', 0), insert('8', 2)] })).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
  });
});
