/**
 * A private data plane for the calling test file or describe block: localcloud's
 * startDataPlane (DynamoDB Local + moto behind an edge on a free port, so the shared
 * :4566 of `npm start` is never touched), started in beforeAll and stopped in afterAll,
 * with SDK clients on its edge.
 *
 * Register it before the file's own hooks: its beforeAll then runs first, and
 * (hooks run as a stack) its afterAll last, once everything using it has stopped.
 */
import { afterAll, beforeAll } from 'vitest';
import { startDataPlane, type DataPlane } from '../data-plane/data-plane.js';
import { testAws, type TestAws } from './aws.js';

export function useDataPlane(): TestAws {
  let dataPlane: DataPlane | undefined;
  let aws: ReturnType<typeof testAws> | undefined;
  beforeAll(async () => {
    dataPlane = await startDataPlane();
    aws = testAws(dataPlane.endpoint);
  });
  afterAll(async () => {
    aws?.destroy();
    await dataPlane?.stop();
  });
  const started = (): TestAws => {
    if (!aws) throw new Error('useDataPlane(): the data plane is only there from beforeAll on');
    return aws;
  };
  return {
    get endpoint() {
      return started().endpoint;
    },
    get dynamodb() {
      return started().dynamodb;
    },
    get streams() {
      return started().streams;
    },
    get sqs() {
      return started().sqs;
    },
  };
}
