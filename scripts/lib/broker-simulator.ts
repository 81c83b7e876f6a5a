import { type HeartbeatResponse, LeadershipClient, RemoteFunctionError } from './lambda-client.js';
import { pollUntil } from './poll.js';

type BrokerStatus = 'running' | 'paused' | 'dead';

interface SimulatedBroker {
  id: string;
  status: BrokerStatus;
  incarnation?: number;
  lastAckedHeartbeatAt?: number;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
}

export interface BrokerSimulatorOptions {
  heartbeatIntervalMs: number;
  onHeartbeat?: (brokerId: string, response: HeartbeatResponse) => void;
  onError?: (brokerId: string, error: Error) => void;
}

/**
 * Brokers that heartbeat through the heartbeat function at a fixed interval, and can
 * be killed (stop for good), paused (a GC pause or partition: they come back with the
 * incarnation they had, as a zombie would) and revived (a restart: a fresh process
 * without an incarnation).
 */
export class BrokerSimulator {
  private readonly brokers = new Map<string, SimulatedBroker>();

  constructor(
    private readonly client: LeadershipClient,
    private readonly options: BrokerSimulatorOptions,
  ) {}

  /** Starts the brokers and resolves once each has one accepted heartbeat. */
  async start(brokerIds: string[]): Promise<void> {
    await Promise.all(brokerIds.map((id) => this.run(id)));
  }

  private async run(id: string): Promise<void> {
    const broker: SimulatedBroker = this.brokers.get(id) ?? { id, status: 'running', inFlight: false };
    broker.status = 'running';
    this.brokers.set(id, broker);
    await this.beat(broker);
    clearInterval(broker.timer);
    broker.timer = setInterval(() => void this.beat(broker), this.options.heartbeatIntervalMs);
  }

  private async beat(broker: SimulatedBroker): Promise<void> {
    if (broker.status !== 'running' || broker.inFlight) return;
    broker.inFlight = true;
    try {
      const response = await this.heartbeatOrRejoin(broker);
      // A kill that raced this heartbeat wins: the broker is dead from the kill on.
      if (broker.status !== 'running') return;
      broker.incarnation = response.incarnation;
      broker.lastAckedHeartbeatAt = Date.now();
      this.options.onHeartbeat?.(broker.id, response);
    } catch (error) {
      this.options.onError?.(broker.id, error as Error);
    } finally {
      broker.inFlight = false;
    }
  }

  /** A broker fenced for its stale incarnation rejoins as a new one, like a Kafka broker re-registering. */
  private async heartbeatOrRejoin(broker: SimulatedBroker): Promise<HeartbeatResponse> {
    try {
      return await this.client.heartbeat(broker.id, broker.incarnation);
    } catch (error) {
      if (error instanceof RemoteFunctionError && error.errorType === 'FencedBrokerError') {
        return this.client.heartbeat(broker.id);
      }
      throw error;
    }
  }

  /** Stops the broker's heartbeats for good; returns when its last heartbeat was acknowledged. */
  async kill(id: string): Promise<number> {
    const broker = this.require(id);
    broker.status = 'dead';
    clearInterval(broker.timer);
    await pollUntil(() => !broker.inFlight, { timeoutMs: 30_000, intervalMs: 5, description: `broker ${id}'s last heartbeat to settle` });
    return broker.lastAckedHeartbeatAt ?? Date.now();
  }

  pause(id: string): void {
    const broker = this.require(id);
    broker.status = 'paused';
    clearInterval(broker.timer);
  }

  /** Resumes a paused broker with its old incarnation (the zombie case). */
  resume(id: string): Promise<void> {
    this.require(id);
    return this.run(id);
  }

  /** Restarts a killed broker as a fresh process: it registers a new incarnation. */
  revive(id: string): Promise<void> {
    const broker = this.require(id);
    broker.incarnation = undefined;
    return this.run(id);
  }

  lastAckedHeartbeatAt(id: string): number | undefined {
    return this.brokers.get(id)?.lastAckedHeartbeatAt;
  }

  incarnation(id: string): number | undefined {
    return this.brokers.get(id)?.incarnation;
  }

  async stop(): Promise<void> {
    for (const broker of this.brokers.values()) {
      broker.status = 'dead';
      clearInterval(broker.timer);
    }
    await pollUntil(() => [...this.brokers.values()].every((broker) => !broker.inFlight), {
      timeoutMs: 30_000,
      intervalMs: 5,
      description: 'in-flight heartbeats to settle',
    });
  }

  private require(id: string): SimulatedBroker {
    const broker = this.brokers.get(id);
    if (!broker) throw new Error(`Unknown simulated broker "${id}"; started: ${[...this.brokers.keys()].join(', ') || 'none'}`);
    return broker;
  }
}
