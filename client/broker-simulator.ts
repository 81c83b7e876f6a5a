import { type HeartbeatResponse, LeadershipClient, isFunctionError } from './lambda-client.js';
import { pollUntil } from './poll.js';

export type BrokerStatus = 'running' | 'paused' | 'dead';

interface SimulatedBroker {
  id: string;
  status: BrokerStatus;
  /** Its credential, once obtained: kept across kills, pauses and revivals, as a broker's configuration is. */
  credential?: string;
  incarnation?: number;
  lastAckedHeartbeatAt?: number;
  /** The lease deadline the judge (the heartbeat function) set with the last accepted heartbeat. */
  leaseDeadlineMs?: number;
  timer?: NodeJS.Timeout;
  jitterTimer?: NodeJS.Timeout;
  inFlight: boolean;
}

/** A broker's credential: given (configured), or obtained from the admin (e.g. registerCredentials). Asked once per broker. */
export type BrokerCredentials = (brokerId: string) => string | Promise<string>;

/**
 * The admin's hook for simulators that start brokers on their own (the console, demos, benches): each
 * broker gets a fresh credential from RegisterBroker when it first starts (a broker of that id that
 * ran elsewhere has its credential rotated, and is refused from its next heartbeat on).
 */
export const registerCredentials =
  (admin: LeadershipClient): BrokerCredentials =>
  async (brokerId) =>
    (await admin.registerBroker(brokerId)).credential;

export interface BrokerSimulatorOptions {
  heartbeatIntervalMs: number;
  /** Where each broker's credential comes from; every heartbeat and controlled shutdown carries it. */
  credentials: BrokerCredentials;
  /**
   * Ask `credentials` again after a heartbeat is refused for its credential (default false). For
   * a simulator whose owner is the cluster's admin (the console): a cloud restarted empty has
   * forgotten every registration, and its brokers would otherwise be refused for good.
   */
  renewRefusedCredentials?: boolean;
  onHeartbeat?: (brokerId: string, response: HeartbeatResponse) => void;
  onError?: (brokerId: string, error: Error) => void;
  /**
   * Start each broker's heartbeat schedule at a random point of the interval (default
   * true), as independent brokers do. Brokers in lockstep would all sweep lapsed peers
   * at the same instant, leaving the rest of the interval without a sweep.
   */
  staggerHeartbeats?: boolean;
}

export interface KilledBroker {
  /** When the simulator received the broker's last accepted heartbeat (its clock). */
  lastAckedHeartbeatAt: number;
  /** The deadline that heartbeat set: the broker counts as dead from here on. */
  leaseDeadlineMs: number;
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
    this.stopSchedule(broker);
    const interval = this.options.heartbeatIntervalMs;
    const offset = this.options.staggerHeartbeats === false ? 0 : Math.floor(Math.random() * interval);
    broker.jitterTimer = setTimeout(() => {
      void this.beat(broker);
      broker.timer = setInterval(() => void this.beat(broker), interval);
    }, offset);
  }

  private stopSchedule(broker: SimulatedBroker): void {
    clearTimeout(broker.jitterTimer);
    clearInterval(broker.timer);
  }

  private async beat(broker: SimulatedBroker): Promise<void> {
    if (broker.status !== 'running' || broker.inFlight) return;
    broker.inFlight = true;
    try {
      const response = await this.heartbeatOrRejoin(broker);
      // Recorded even if a kill raced it: the lease it renewed is what the judge goes by.
      broker.incarnation = response.incarnation;
      broker.lastAckedHeartbeatAt = Date.now();
      broker.leaseDeadlineMs = response.deadlineMs;
      this.options.onHeartbeat?.(broker.id, response);
    } catch (error) {
      this.options.onError?.(broker.id, error as Error);
    } finally {
      broker.inFlight = false;
    }
  }

  /** A broker fenced for its stale incarnation rejoins as a new one, like a Kafka broker re-registering. */
  private async heartbeatOrRejoin(broker: SimulatedBroker): Promise<HeartbeatResponse> {
    // Obtained on the first heartbeat, inside its error handling: a failed registration is reported and tried again.
    const credential = (broker.credential ??= await this.options.credentials(broker.id));
    try {
      return await this.client.heartbeat(broker.id, credential, broker.incarnation);
    } catch (error) {
      if (isFunctionError(error, 'FencedBrokerError')) {
        return this.client.heartbeat(broker.id, credential);
      }
      if (isFunctionError(error, 'BrokerAuthenticationError') && this.options.renewRefusedCredentials) {
        broker.credential = undefined;
      }
      throw error;
    }
  }

  /** The credential the broker heartbeats with (for its controlled shutdown); it must have started. */
  credentialOf(id: string): string {
    const { credential } = this.require(id);
    if (credential === undefined) throw new Error(`simulated broker "${id}" has no credential yet: it never sent a heartbeat`);
    return credential;
  }

  /** Stops the broker's heartbeats for good; says when its last one was accepted and its lease lapses. */
  async kill(id: string): Promise<KilledBroker> {
    const broker = this.require(id);
    broker.status = 'dead';
    this.stopSchedule(broker);
    await pollUntil(() => !broker.inFlight, { timeoutMs: 30_000, intervalMs: 5, description: `broker ${id}'s last heartbeat to settle` });
    if (broker.lastAckedHeartbeatAt === undefined || broker.leaseDeadlineMs === undefined) {
      throw new Error(`broker "${id}" was killed before any of its heartbeats was accepted`);
    }
    return { lastAckedHeartbeatAt: broker.lastAckedHeartbeatAt, leaseDeadlineMs: broker.leaseDeadlineMs };
  }

  pause(id: string): void {
    const broker = this.require(id);
    broker.status = 'paused';
    this.stopSchedule(broker);
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

  /** What each simulated broker is doing, for views of the cluster (the web console). */
  list(): Array<{ id: string; status: BrokerStatus; incarnation?: number; lastAckedHeartbeatAt?: number; leaseDeadlineMs?: number }> {
    return [...this.brokers.values()].map(({ id, status, incarnation, lastAckedHeartbeatAt, leaseDeadlineMs }) => ({
      id,
      status,
      incarnation,
      lastAckedHeartbeatAt,
      leaseDeadlineMs,
    }));
  }

  async stop(): Promise<void> {
    for (const broker of this.brokers.values()) {
      broker.status = 'dead';
      this.stopSchedule(broker);
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
