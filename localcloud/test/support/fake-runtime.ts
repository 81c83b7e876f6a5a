/**
 * A LambdaRuntime double: records every invocation and answers with what the test
 * scripts per function (a payload, a thrown error → FunctionError, or a delay).
 */
import { randomUUID } from 'node:crypto';
import type { FunctionSpec, InvokeResult, LambdaRuntime } from '../../types.js';

export interface Invocation {
  functionName: string;
  payload: unknown;
  startedAt: number;
}

/** Returns the handler's payload; throwing makes the invocation a function error. */
export type FakeHandler = (payload: unknown, invocation: Invocation) => unknown;

export class FakeLambdaRuntime implements LambdaRuntime {
  readonly functions = new Map<string, FunctionSpec>();
  readonly invocations: Invocation[] = [];
  private readonly handlers = new Map<string, FakeHandler>();
  private inFlight = 0;
  /** The highest number of invocations that ran at the same time. */
  maxConcurrent = 0;

  register(spec: FunctionSpec): void {
    this.functions.set(spec.name, spec);
  }

  unregister(name: string): void {
    this.functions.delete(name);
  }

  get(nameOrArn: string): FunctionSpec | undefined {
    return this.functions.get(nameOrArn) ?? [...this.functions.values()].find((f) => f.arn === nameOrArn);
  }

  list(): FunctionSpec[] {
    return [...this.functions.values()];
  }

  /** Scripts a function's behaviour; unscripted functions return null. */
  on(functionName: string, handler: FakeHandler): this {
    this.handlers.set(functionName, handler);
    return this;
  }

  invocationsOf(functionName: string): Invocation[] {
    return this.invocations.filter((i) => i.functionName === functionName);
  }

  async invoke(nameOrArn: string, payload: unknown): Promise<InvokeResult> {
    const name = this.get(nameOrArn)?.name ?? nameOrArn;
    const invocation: Invocation = { functionName: name, payload: structuredClone(payload), startedAt: Date.now() };
    this.invocations.push(invocation);
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    const started = Date.now();
    try {
      const result: unknown = await (this.handlers.get(name) ?? (() => null))(payload, invocation);
      return { requestId: randomUUID(), payload: result ?? null, logs: '', durationMs: Date.now() - started };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      return {
        requestId: randomUUID(),
        error: { errorType: error.name, errorMessage: error.message },
        logs: '',
        durationMs: Date.now() - started,
      };
    } finally {
      this.inFlight -= 1;
    }
  }

  async close(): Promise<void> {}
}
