/**
 * moto_server as a child process: the AWS data plane (DynamoDB + Streams, SQS, S3,
 * CloudFormation...) of the embedded cloud, on a free private port of 127.0.0.1.
 *
 * moto runs in its own process group, so stop() reaches whatever the launcher spawned
 * (the pyenv shim execs, other launchers may fork). The process is also killed when
 * this process exits, and on SIGINT/SIGTERM/SIGHUP when nobody else handles them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { accessSync, constants } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MotoOptions {
  host?: string;
  /** Default: a free port picked at start. */
  port?: number;
  /** Default `moto_server`, looked up on PATH. */
  command?: string;
  startTimeoutMs?: number;
}

export interface MotoServer {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export class MotoNotInstalledError extends Error {
  override readonly name = 'MotoNotInstalledError';
  constructor(command: string) {
    super(
      `"${command}" was not found on PATH; the embedded local cloud needs it for DynamoDB, SQS and S3.\n` +
        `  Install it:  pip install 'moto[server]'\n` +
        '  Or use LocalStack instead: start it, set AWS_ENDPOINT_URL to it (e.g. http://localhost:4566)\n' +
        '  and deploy with `npm run deploy:localstack`.',
    );
  }
}

export class MotoStartError extends Error {
  override readonly name = 'MotoStartError';
}

const STOP_GRACE_MS = 3000;
const START_ATTEMPTS = 3;

export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const command = options.command ?? 'moto_server';
  const executable = findExecutable(command);
  const launcher = options.command ? [executable] : (patchedLauncher() ?? [executable]);
  const host = options.host ?? '127.0.0.1';
  // A picked port can be taken before moto binds it: retry with another one.
  for (let attempt = 1; ; attempt += 1) {
    const port = options.port ?? (await findFreePort(host));
    try {
      return await launch(launcher, host, port, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      const retry = error instanceof PortTakenError && options.port === undefined && attempt < START_ATTEMPTS;
      if (!retry) throw error;
    }
  }
}

/** Asks the OS for a free port by binding port 0, then releases it. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new MotoStartError('could not pick a free port');
  return address.port;
}

class PortTakenError extends MotoStartError {}

function findExecutable(command: string): string {
  const candidates = command.includes(path.sep)
    ? [command]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  throw new MotoNotInstalledError(command);
}

/**
 * moto_server with the fix in moto_server_patched.py (one rollback snapshot per table per
 * transaction), when a python3 that has moto is on PATH; null means plain moto_server.
 */
let patchedLauncherMemo: string[] | null | undefined;
function patchedLauncher(): string[] | null {
  if (patchedLauncherMemo === undefined) {
    const script = fileURLToPath(new URL('./moto_server_patched.py', import.meta.url));
    const probe = spawnSync('python3', ['-c', 'import moto.dynamodb.models, moto.server'], { stdio: 'ignore' });
    patchedLauncherMemo = probe.status === 0 ? ['python3', script] : null;
  }
  return patchedLauncherMemo;
}

async function launch(launcher: string[], host: string, port: number, timeoutMs: number): Promise<MotoServer> {
  const [program, ...programArgs] = launcher as [string, ...string[]];
  const child = spawn(program, [...programArgs, '-H', host, '-p', String(port)], {
    detached: true,
    // moto logs every request on stderr: keep only the tail, for error messages.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = new TailBuffer(4096);
  child.stderr?.setEncoding('utf8').on('data', (text: string) => stderr.push(text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => undefined); // surfaced through 'exit' and the readiness timeout
  track(child);
  void exited.then(() => untrack(child));

  const endpoint = `http://${host}:${port}`;
  const ready = await Promise.race([waitUntilServing(endpoint, timeoutMs), exited.then(() => false)]);
  if (!ready) {
    await stopProcess(child, exited);
    const output = stderr.text();
    const ErrorClass = /address already in use/i.test(output) ? PortTakenError : MotoStartError;
    throw new ErrorClass(`moto_server did not start on ${endpoint}:\n${output}`);
  }
  // The owner decides how long moto lives (stop(), or the exit hooks): it must not, by
  // itself, keep this process running. stdio pipes are sockets.
  (child.stderr as Socket | null)?.unref();
  child.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= stopProcess(child, exited)),
  };
}

/** moto answers its own management API once its HTTP server is up. */
async function waitUntilServing(endpoint: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    // The child is unref'd so that it never keeps this process alive by itself; while we
    // wait for its exit it must, or Node could end with this promise still pending.
    child.ref();
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

class TailBuffer {
  private buffer = '';
  constructor(private readonly maxChars: number) {}
  push(text: string): void {
    this.buffer = (this.buffer + text).slice(-this.maxChars);
  }
  text(): string {
    return this.buffer;
  }
}

// ---- cleanup when this process ends: a moto left running would hold its port and memory.
const running = new Set<ChildProcess>();
const EXIT_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(): void {
  for (const child of running) signalGroup(child, 'SIGKILL');
  running.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Another handler (e.g. `npm start` stopping the cloud gracefully) owns the shutdown;
  // the 'exit' hook still catches anything it forgets.
  if (process.listenerCount(signal) > 1) return;
  killAll();
  uninstallHooks();
  // Die of the same signal, as the process would have without this handler.
  process.kill(process.pid, signal);
}

function installHooks(): void {
  process.on('exit', killAll);
  for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);
}

function uninstallHooks(): void {
  process.off('exit', killAll);
  for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess): void {
  if (running.size === 0) installHooks();
  running.add(child);
}

function untrack(child: ChildProcess): void {
  if (running.delete(child) && running.size === 0) uninstallHooks();
}
