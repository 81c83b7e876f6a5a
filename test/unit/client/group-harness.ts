/**
 * Consumers of a group over the REAL domain: a transport that hands each function's payload
 * to its use case (describe, consume, groups) over the memory stores, as the handlers do,
 * and a virtual clock shared by the clients and the domain, on which time moves only when
 * every client and every domain call is waiting: heartbeats, long rebalances and session
 * timeouts pass in milliseconds, in an order fixed by the code alone.
 */
import { LeadershipClient, type InvokeOutcome, type LambdaTransport } from '../../../client/lambda-client.js';
import type { Clock } from '../../../client/retry.js';
import { DomainError, describe as describeTopics, serveConsumer, serveGroups } from '../../../functions/domain/index.js';
import type { ManualClock } from '../../../functions/adapters/memory/index.js';
import { ClusterHarness } from '../../factories/cluster.js';
import { fakeOutputs, networkError } from './fake-lambda.js';

/**
 * Sleepers wake in time order, one per turn of the event loop, and only while no domain
 * call is running (`busy`: the memory stores yield to the event loop between operations,
 * which must take no virtual time): a timer fires once every promise chain that could run
 * has run to its next sleep, so concurrent sleepers share time as they would on a real clock.
 */
export class VirtualClock implements Clock {
  private timers: Array<{ at: number; seq: number; wake: () => void }> = [];
  private seq = 0;
  private scheduled = false;
  private stopped = false;
  private busyCount = 0;

  constructor(private readonly manual: ManualClock) {}

  /** Domain work: time stands still while it runs, except while it sleeps (`sleepWithin`). */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.busyCount += 1;
    try {
      return await work();
    } finally {
      this.busyCount -= 1;
      this.schedule();
    }
  }

  /** A sleep of domain work (a JoinGroup at the barrier): time may pass meanwhile. */
  async sleepWithin(ms: number): Promise<void> {
    const within = this.busyCount > 0;
    if (within) this.busyCount -= 1;
    try {
      await this.sleep(ms);
    } finally {
      if (within) this.busyCount += 1;
    }
  }

  now(): number {
    return this.manual.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      if (this.stopped) return;
      this.timers.push({ at: this.now() + Math.max(0, ms), seq: (this.seq += 1), wake });
      this.schedule();
    });
  }

  /** Sleepers after this never wake: what ends the background loops of a test. */
  stop(): void {
    this.stopped = true;
    this.timers = [];
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.scheduled = false;
    if (this.stopped || this.timers.length === 0 || this.busyCount > 0) return;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers.shift() as { at: number; wake: () => void };
    if (next.at > this.now()) this.manual.advance(next.at - this.now());
    next.wake();
    if (this.timers.length > 0) this.schedule();
  }
}

const failure = (errorType: string, errorMessage: string): InvokeOutcome => ({ functionError: 'Unhandled', payload: JSON.stringify({ errorType, errorMessage }) });

/** One client's connection: can be cut (every call fails as a refused connection) or have its heartbeats held (a stalled heartbeat thread). */
export interface Link {
  client: LeadershipClient;
  cut: boolean;
  /** Cut as this group API is called: the process dies at that point of the protocol. */
  cutAt?: string;
  holdHeartbeats(): void;
  releaseHeartbeats(): void;
  /** Group API calls made, in order. */
  groupCalls: string[];
  /** Consume function calls made. */
  fetches: number;
}

export class GroupWorld {
  readonly cluster = new ClusterHarness();
  readonly clock: VirtualClock;
  private brokersBeating = true;
  /** The brokers that heartbeat. */
  readonly beating = new Set(['A', 'B', 'C']);

  constructor() {
    this.clock = new VirtualClock(this.cluster.deps.clock);
    // The domain's own waits (a JoinGroup at the barrier, an acks=all produce) sleep on the same clock.
    this.cluster.deps.sleep = async (ms) => {
      await this.clock.sleepWithin(ms);
      await this.cluster.replicateAll();
    };
  }

  /** Three brokers heartbeating every 2 s of virtual time, and a topic. */
  async start(topic: string, partitions: number): Promise<void> {
    await this.cluster.start('A', 'B', 'C');
    await this.cluster.createTopic(topic, partitions, 3);
    // One loop per broker: a heartbeat may wait on the clock for a lapsing peer's lease, which must not hold the peer's own.
    for (const broker of ['A', 'B', 'C']) {
      void (async () => {
        while (this.brokersBeating) {
          await this.clock.sleep(1_000);
          if (this.beating.has(broker)) await this.domain(() => this.cluster.heartbeat(broker)).catch(() => undefined);
        }
      })();
    }
  }

  /** A direct call of the domain (setup, checks, a controlled shutdown), which takes no virtual time but its sleeps. */
  domain<T>(work: () => Promise<T>): Promise<T> {
    return this.clock.busy(work);
  }

  stop(): void {
    this.brokersBeating = false;
    this.clock.stop();
  }

  /** What the deployed functions would do with the payload (the handlers' error mapping included). */
  private readonly dispatch = async (functionName: string, payloadText: string): Promise<InvokeOutcome> => {
    const payload = JSON.parse(payloadText) as unknown;
    const deps = this.cluster.deps;
    return this.clock.busy(async () => {
    try {
      let answer: unknown;
      if (functionName === fakeOutputs.DescribeFunctionName) answer = await describeTopics(deps, payload);
      else if (functionName === fakeOutputs.ConsumeFunctionName) answer = await serveConsumer(deps, payload);
      else if (functionName === fakeOutputs.GroupsFunctionName) answer = await serveGroups(deps, payload);
      else throw new Error(`the group tests do not serve ${functionName}`);
      return { payload: JSON.stringify(answer) };
    } catch (error) {
      if (error instanceof DomainError) return failure(error.name, error.message);
      throw error;
    }
    });
  };

  link(): Link {
    let gate: Promise<void> | undefined;
    let open = (): void => undefined;
    const link: Link = {
      client: undefined as unknown as LeadershipClient,
      cut: false,
      groupCalls: [],
      fetches: 0,
      holdHeartbeats: () => {
        gate = new Promise((resolve) => (open = resolve));
      },
      releaseHeartbeats: () => {
        gate = undefined;
        open();
      },
    };
    const transport: LambdaTransport = async (functionName, payload) => {
      if (functionName === fakeOutputs.GroupsFunctionName) {
        const { api } = JSON.parse(payload) as { api: string };
        link.groupCalls.push(api);
        if (api === link.cutAt) link.cut = true;
        if (api === 'Heartbeat' && gate) await gate;
      }
      if (functionName === fakeOutputs.ConsumeFunctionName) link.fetches += 1;
      if (link.cut) throw networkError('ECONNREFUSED');
      return this.dispatch(functionName, payload);
    };
    link.client = new LeadershipClient(fakeOutputs, { transport });
    return link;
  }
}
