/**
 * A private moto_server for the calling test file or describe block: localcloud's
 * startMoto (a free port, so the shared :4566 of `npm start` is never touched),
 * started in beforeAll and stopped in afterAll, with SDK clients on it.
 *
 * Register it before the file's own hooks: its beforeAll then runs first, and
 * (hooks run as a stack) its afterAll last, once everything using moto has stopped.
 */
import { afterAll, beforeAll } from 'vitest';
import { startMoto, type MotoServer } from '../../localcloud/moto.js';
import { testAws, type TestAws } from './aws.js';

export function useMoto(): TestAws {
  let moto: MotoServer | undefined;
  let aws: ReturnType<typeof testAws> | undefined;
  beforeAll(async () => {
    moto = await startMoto();
    aws = testAws(moto.endpoint);
  });
  afterAll(async () => {
    aws?.destroy();
    await moto?.stop();
  });
  const started = (): TestAws => {
    if (!aws) throw new Error('useMoto(): moto is only there from beforeAll on');
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
