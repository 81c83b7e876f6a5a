/**
 * One Lambda execution environment: a worker thread that imports the handler once (cold
 * start) and then runs one invocation at a time, warm, until it is retired or crashes.
 */
import { Worker } from 'node:worker_threads';
import { lambdaEnvironment, newLogStreamName, staticContext, type SandboxSettings } from './env.js';
import { timeoutMessage } from './invocation-logs.js';
import type { LambdaFault } from '../chaos.js';
import type { FunctionSpec, InvokeError } from '../types.js';
import type { InvokeMessage, WorkerBootData, WorkerMessage } from './worker-protocol.js';

const WORKER_FILE = new URL('./worker.mjs', import.meta.url);

export interface SandboxInvocation {
  requestId: string;
  event: unknown;
  /** Receives the function's output (console, stdout, stderr) as it is written. */
  onLog: (text: string) => void;
  /** The fault mode's verdict on this invocation (chaos.ts): the sandbox dies, or times out early. */
  fault?: LambdaFault;
}

export type SandboxVerdict = { ok: true; payloadJson: string } | { ok: false; error: InvokeError };

export interface SandboxFigures {
  durationMs: number;
  initDurationMs?: number;
  memoryUsedMb?: number;
}

export type SandboxOutcome = SandboxVerdict & SandboxFigures;

/** A caller asked a sandbox for something its state does not allow: a bug in the pool. */
export class SandboxStateError extends Error {
  override readonly name = 'SandboxStateError';
}

interface Running {
  requestId: string;
  onLog: (text: string) => void;
  startedAt: number;
  timer: NodeJS.Timeout;
  resolve: (outcome: SandboxOutcome) => void;
}

export class Sandbox {
  private readonly worker: Worker;
  private running?: Running;
  private dead = false;
  private markInitialized!: () => void;
  /** Resolves once the module import is over (or the worker died): the cold start's CPU is spent. */
  readonly initialized = new Promise<void>((resolve) => {
    this.markInitialized = resolve;
  });

  constructor(
    private readonly spec: FunctionSpec,
    settings: SandboxSettings,
    codeVersion: number,
    /** Output written while no invocation runs (e.g. a timer firing after the handler returned). */
    private readonly onIdleLog: (text: string) => void,
  ) {
    const logStreamName = newLogStreamName();
    const workerData: WorkerBootData = {
      codeDir: spec.codeDir,
      handler: spec.handler,
      codeVersion,
      context: staticContext(spec, logStreamName),
    };
    this.worker = new Worker(WORKER_FILE, {
      workerData,
      env: lambdaEnvironment(spec, settings, logStreamName),
      // Not the host's flags: under tsx or vitest they would load a TypeScript loader into
      // every sandbox, slowing cold starts and hiding what Lambda would really run.
      execArgv: [],
      // Captured rather than inherited so nothing a function prints bypasses its log.
      stdout: true,
      stderr: true,
    });
    // An idle sandbox must not keep the host process alive; a running one must.
    this.worker.unref();
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error) => this.onCrash(error));
    this.worker.on('exit', (code: number) => this.onExit(code));
    this.worker.stdout.setEncoding('utf8').on('data', (text: string) => this.log(text));
    this.worker.stderr.setEncoding('utf8').on('data', (text: string) => this.log(text));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** An invocation is under way: the sandbox cannot take another until it ends. */
  get isRunning(): boolean {
    return this.running !== undefined;
  }

  run(invocation: SandboxInvocation): Promise<SandboxOutcome> {
    if (this.dead) throw new SandboxStateError(`sandbox of ${this.spec.name} is terminated`);
    if (this.running) throw new SandboxStateError(`sandbox of ${this.spec.name} is busy`);
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const { fault } = invocation;
    return new Promise((resolve) => {
      this.running = {
        requestId: invocation.requestId,
        onLog: invocation.onLog,
        startedAt: performance.now(),
        timer:
          fault?.kind === 'kill'
            ? // The execution environment dies under the handler: what it wrote stays, the caller gets Runtime.ExitError.
              setTimeout(() => void this.worker.terminate(), fault.afterMs)
            : setTimeout(() => this.onTimeout(), fault?.kind === 'timeout' ? Math.min(fault.afterMs, timeoutMs) : timeoutMs),
        resolve,
      };
      this.worker.ref();
      const message: InvokeMessage = {
        type: 'invoke',
        requestId: invocation.requestId,
        event: invocation.event,
        deadline: Date.now() + timeoutMs,
      };
      try {
        this.worker.postMessage(message);
      } catch (error) {
        // The structured clone refused the event (e.g. JSON nested thousands deep overflows its
        // recursion): nothing reached the worker, so it is still clean and takes the next one.
        this.refuseEvent(error);
      }
    });
  }

  /** Ends the worker; an invocation still running ends with Runtime.ExitError. */
  async terminate(): Promise<void> {
    this.dead = true;
    this.markInitialized();
    await this.worker.terminate();
  }

  private log(text: string): void {
    if (this.running) this.running.onLog(text);
    else this.onIdleLog(text);
  }

  /** Figures default to the host's view when the worker could not report them (timeout, crash). */
  private finish(verdict: SandboxVerdict, figures?: SandboxFigures): void {
    const running = this.running;
    if (!running) return;
    clearTimeout(running.timer);
    this.running = undefined;
    if (!this.dead) this.worker.unref();
    running.resolve({ ...verdict, ...(figures ?? { durationMs: performance.now() - running.startedAt }) });
  }

  private fail(error: InvokeError): void {
    this.finish({ ok: false, error });
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'log') {
      this.log(message.text);
      return;
    }
    if (message.type === 'initialized') {
      this.markInitialized();
      return;
    }
    // A late answer from an invocation that already timed out is dropped.
    if (message.requestId !== this.running?.requestId) return;
    const figures: SandboxFigures = {
      durationMs: message.durationMs,
      initDurationMs: message.initDurationMs,
      memoryUsedMb: message.memoryUsedMb,
    };
    if (message.ok) {
      this.finish({ ok: true, payloadJson: message.payloadJson }, figures);
      return;
    }
    // Lambda discards an environment whose init failed; the next invocation starts cold again.
    if (message.initFailed) void this.terminate();
    this.finish({ ok: false, error: message.error }, figures);
  }

  private refuseEvent(error: unknown): void {
    const running = this.running;
    if (!running) return;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const message = `The event could not be handed to the function (${reason}); is it nested too deeply?`;
    running.onLog(`${new Date().toISOString()} ${running.requestId} ${message}\n`);
    this.fail({ errorType: 'InvalidRequestContentException', errorMessage: message });
  }

  private onTimeout(): void {
    const running = this.running;
    if (!running) return;
    const message = timeoutMessage(this.spec.timeoutSeconds);
    running.onLog(`${new Date().toISOString()} ${running.requestId} ${message}\n`);
    // The handler may never yield (a busy loop): only terminating the worker stops it.
    void this.terminate();
    this.fail({ errorType: 'Sandbox.Timedout', errorMessage: message });
  }

  /** An exception nobody caught (e.g. thrown from a timer): the worker is gone. */
  private onCrash(error: Error): void {
    this.dead = true;
    this.markInitialized();
    this.fail({ errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') });
  }

  private onExit(code: number): void {
    this.dead = true;
    this.markInitialized();
    const requestId = this.running?.requestId ?? '';
    this.fail({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
    });
  }
}
