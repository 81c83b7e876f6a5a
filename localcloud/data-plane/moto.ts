/**
 * moto_server as a child process: SQS, S3, CloudFormation and the rest of the AWS data
 * plane of the embedded cloud except DynamoDB (served by DynamoDB Local, see
 * dynamodb-local.ts), on a free private port of 127.0.0.1. Process handling (its own
 * process group, killed on stop(), on exit and on signals) is in managed-process.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable, launchWithRetry, PortTakenError, ServerStartError, type ManagedServer } from './managed-process.js';

export { findFreePort } from './managed-process.js';

/**
 * moto-patches/sitecustomize.py, which Python loads at start from PYTHONPATH: moto refuses
 * what a web page sends (Origin, a foreign Sec-Fetch-Site, OPTIONS, a non-loopback Host; see
 * README.md, Loopback only), and a fix of one hot path of moto's SQS (every send cost
 * O(messages queued)); see that file.
 */
const MOTO_PATCHES = fileURLToPath(new URL('./moto-patches', import.meta.url));

export interface MotoOptions {
  host?: string;
  /** Default: a free port picked at start. */
  port?: number;
  /** Default `moto_server`, looked up on PATH. */
  command?: string;
  startTimeoutMs?: number;
}

export type MotoServer = ManagedServer;

export class MotoNotInstalledError extends Error {
  override readonly name = 'MotoNotInstalledError';
  constructor(command: string) {
    super(
      `"${command}" was not found on PATH; the embedded local cloud needs it for SQS and S3.\n` +
        `  Install it:  pip install 'moto[server]'\n` +
        '  Or use LocalStack instead: start it, set AWS_ENDPOINT_URL to it (e.g. http://localhost:4566)\n' +
        '  and deploy with `npm run deploy:localstack`.',
    );
  }
}

export class MotoStartError extends ServerStartError {
  override readonly name = 'MotoStartError';
}

export class MotoPortInUseError extends PortTakenError {
  override readonly name = 'MotoPortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is already in use, so moto_server cannot listen on it. Stop what holds it, or leave the port out (a free one is picked).`);
  }
}

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const command = options.command ?? 'moto_server';
  const executable = findExecutable(command);
  if (!executable) throw new MotoNotInstalledError(command);
  const host = options.host ?? '127.0.0.1';
  try {
    return await launchWithRetry({
      name: 'moto_server',
      program: executable,
      args: (port) => ['-H', host, '-p', String(port)],
      env: {
        PYTHONPATH: [MOTO_PATCHES, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
        // moto otherwise wraps every backend in flask-cors, which reflects any Origin: every web
        // page could read its answers. moto/settings.py takes any non-empty value as true.
        MOTO_DISABLE_GLOBAL_CORS: 'true',
      },
      host,
      port: options.port,
      timeoutMs: options.startTimeoutMs ?? 30_000,
      isServing,
      portTakenPattern: /address already in use/i,
    });
  } catch (error) {
    if (error instanceof PortTakenError && options.port !== undefined) throw new MotoPortInUseError(options.port);
    if (error instanceof ServerStartError && !(error instanceof PortTakenError)) throw new MotoStartError(error.message);
    throw error;
  }
}

/** moto answers its own management API once its HTTP server is up (asked directly: the edge refuses /moto-api/). */
async function isServing(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return response.ok;
}
