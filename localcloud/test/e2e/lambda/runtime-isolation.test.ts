/**
 * Heartbeats never starve: a burst of one function must not delay another function's
 * invocations by more than a small fraction of a broker session timeout. Each function
 * has its own pool of sandboxes (no shared queue, no shared worker limit), and the edge
 * that proxies every SDK call does no blocking work. Measured through the edge, as the
 * brokers invoke: a "heartbeat" function invoked every 50 ms while another function
 * (1) queues far beyond its concurrency cap, (2) keeps all of its sandboxes' threads busy
 * on the CPU of a 2-core machine.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../../cloud.js';
import { summarize } from '../../../../tools/stats.js';
import { fixtureFunction } from '../../../testing/lambdas/function-specs.js';
import { testClientConfig } from '../../../testing/aws.js';
import { sleep } from '../../../testing/wait-for.js';

/** `npm start`'s shortest session timeout in the benchmarks; the budget is 10 % of it. */
const SESSION_TIMEOUT_MS = 3000;
const BUDGET_MS = SESSION_TIMEOUT_MS / 10;
const PROBE_EVERY_MS = 50;

describe('a burst of one function does not starve another', () => {
  let cloud: LocalCloud;
  // Brokers and producers are separate clients: one SDK client's socket pool (50) would
  // queue the heartbeats behind the burst before they ever reached the cloud.
  let brokerClient: LambdaClient;
  let burstClient: LambdaClient;

  beforeAll(async () => {
    cloud = await startLocalCloud({ port: 0, ttlPeriodMs: 0 });
    brokerClient = new LambdaClient({ ...testClientConfig(cloud.endpoint), maxAttempts: 1 });
    burstClient = new LambdaClient({ ...testClientConfig(cloud.endpoint), maxAttempts: 1 });
    cloud.runtime.register(fixtureFunction('heartbeat', 'echo'));
    cloud.runtime.register(fixtureFunction('queued-burst', 'sleepy', { timeoutSeconds: 30 }));
    cloud.runtime.register(fixtureFunction('cpu-burst', 'burn', { timeoutSeconds: 30 }));
  });

  afterAll(async () => {
    brokerClient?.destroy();
    burstClient?.destroy();
    await cloud?.stop();
  });

  const invoke = async (functionName: string, payload: unknown) => {
    const client = functionName === 'heartbeat' ? brokerClient : burstClient;
    const response = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
    if (response.FunctionError) throw new Error(`${functionName} failed: ${Buffer.from(response.Payload ?? []).toString()}`);
  };

  /** Heartbeat latencies, one invocation every PROBE_EVERY_MS, for as long as `burst` runs. */
  async function heartbeatLatencyDuring(burst: Promise<unknown>): Promise<number[]> {
    let running = true;
    const finished = burst.finally(() => {
      running = false;
    });
    const latencies: number[] = [];
    while (running) {
      const started = performance.now();
      await invoke('heartbeat', { beat: latencies.length });
      latencies.push(performance.now() - started);
      await sleep(PROBE_EVERY_MS); // the probe's own pace, not a wait for a result
    }
    await finished;
    return latencies;
  }

  beforeAll(async () => {
    // Warm every function's first sandbox: cold starts are not what is measured.
    await Promise.all(['heartbeat', 'queued-burst', 'cpu-burst'].map((name) => invoke(name, { ms: 1 })));
  });

  it('heartbeats are not queued behind a function that is 10x over its concurrency cap', async () => {
    const burst = Promise.all(Array.from({ length: 100 }, () => invoke('queued-burst', { ms: 200 })));
    const latencies = await heartbeatLatencyDuring(burst);
    const stats = summarize(latencies.map(Math.round));
    console.log(`[runtime isolation] heartbeat latency during a queued burst (100 x 200 ms, cap 10): ${JSON.stringify(stats)}`);

    expect(stats.n).toBeGreaterThanOrEqual(10); // the burst lasts ~2 s: queued, not run at once
    expect(stats.p99).toBeLessThan(BUDGET_MS);
  });

  it('heartbeats keep their pace while another function keeps 10 threads busy on the CPU', async () => {
    const burst = Promise.all(Array.from({ length: 40 }, () => invoke('cpu-burst', { ms: 100 })));
    const latencies = await heartbeatLatencyDuring(burst);
    const stats = summarize(latencies.map(Math.round));
    console.log(`[runtime isolation] heartbeat latency during a CPU burst (40 x 100 ms busy loops): ${JSON.stringify(stats)}`);

    expect(stats.n).toBeGreaterThanOrEqual(3);
    expect(stats.p99).toBeLessThan(BUDGET_MS);
  });
});
