import { describe, expect, it } from 'vitest';
import { MotoNotInstalledError, startMoto } from '../../../data-plane/moto.js';

describe('startMoto without moto_server', () => {
  it('says how to install moto, or how to use LocalStack instead', async () => {
    const error: unknown = await startMoto({ command: 'moto_server_that_does_not_exist' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MotoNotInstalledError);
    const message = (error as Error).message;
    expect(message).toContain("pip install 'moto[server]'");
    expect(message).toContain('AWS_ENDPOINT_URL');
    expect(message).toContain('npm run deploy:localstack');
  });
});
