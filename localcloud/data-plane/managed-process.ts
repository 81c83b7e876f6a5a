/**
 * A local server as a child process (moto_server, DynamoDB Local): launched on a port of
 * 127.0.0.1 in its own process group, so stop() reaches whatever the launcher spawned
 * (the pyenv shim execs, other launchers may fork). Every such process is also killed
 * when this process exits, and on SIGINT/SIGTERM/SIGHUP when nobody else handles them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedServer {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface LaunchSpec {
  /** For error messages: "moto_server", "DynamoDB Local". */
  name: string;
  program: string;
  /** The command line for the port the server is to listen on. */
  args: (port: number) => string[];
  cwd?: string;
  /** Added to this process's environment for the server. */
  env?: Record<string, string>;
  host: string;
  port: number;
  timeoutMs: number;
  /** Resolves true once the server answers at `endpoint`. */
  isServing: (endpoint: string) => Promise<boolean>;
  /** Output that means the port was taken (the caller may retry on another). */
  portTakenPattern: RegExp;
}

/** The server could not bind its port. */
export class PortTakenError extends Error {
  override readonly name: string = 'PortTakenError';
}

export class ServerStartError extends Error {
  override readonly name: string = 'ServerStartError';
}

const STOP_GRACE_MS = 3000;

/** Asks the OS for a free port by binding port 0, then releases it. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new ServerStartError('could not pick a free port');
  return address.port;
}

/** Whether something already listens on host:port (binding it fails with EADDRINUSE). */
export async function isPortTaken(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/** The absolute path of `command` (looked up on PATH unless it has a separator), or undefined. */
export function findExecutable(command: string): string | undefined {
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
  return undefined;
}

/**
 * Starts the server and waits until it serves. A picked port (`port` undefined) that is
 * taken before the server binds it is retried with another free one, up to `attempts`.
 */
export async function launchWithRetry(
  spec: Omit<LaunchSpec, 'port'> & { port?: number },
  attempts = 3,
): Promise<ManagedServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = spec.port ?? (await findFreePort(spec.host));
    try {
      return await launch({ ...spec, port });
    } catch (error) {
      const retry = error instanceof PortTakenError && spec.port === undefined && attempt < attempts;
      if (!retry) throw error;
    }
  }
}

export async function launch(spec: LaunchSpec): Promise<ManagedServer> {
  const child = spawn(spec.program, spec.args(spec.port), {
    cwd: spec.cwd,
    env: spec.env ? { ...process.env, ...spec.env } : process.env,
    detached: true,
    // Servers log every request: keep only the tail, for error messages.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new TailBuffer(4096);
  child.stdout?.setEncoding('utf8').on('data', (text: string) => output.push(text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => output.push(text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => output.push(`\n${error.message}`)); // surfaced through 'exit'
  track(child);
  void exited.then(() => untrack(child));

  const endpoint = `http://${spec.host}:${spec.port}`;
  const ready = await Promise.race([
    waitUntilServing(spec.isServing, endpoint, spec.timeoutMs),
    exited.then(() => false),
  ]);
  if (!ready) {
    await stopProcess(child, exited);
    const text = output.text();
    const ErrorClass = spec.portTakenPattern.test(text) ? PortTakenError : ServerStartError;
    const why = child.exitCode !== null || child.signalCode !== null ? 'exited' : `did not answer within ${spec.timeoutMs} ms`;
    throw new ErrorClass(`${spec.name} did not start on ${endpoint} (${why}):\n${text}`);
  }
  // The owner decides how long the server lives (stop(), or the exit hooks): it must not,
  // by itself, keep this process running. stdio pipes are sockets.
  (child.stdout as Socket | null)?.unref();
  (child.stderr as Socket | null)?.unref();
  child.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port: spec.port,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= stopProcess(child, exited)),
  };
}

async function waitUntilServing(isServing: (endpoint: string) => Promise<boolean>, endpoint: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await isServing(endpoint)) return true;
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

// ---- cleanup when this process ends: a server left running would hold its port and memory.
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
