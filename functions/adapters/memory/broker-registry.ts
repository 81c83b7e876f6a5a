/**
 * BrokerRegistry with the DynamoDB adapter's conditions, plus the heartbeat
 * table's stream (INSERT / MODIFY / REMOVE with images) for the failure detector.
 */
import type { BrokerHeartbeat, BrokerId } from '../../domain/model.js';
import type { BrokerRegistry } from '../../ports/index.js';
import { copyOf, type MemoryTables } from './tables.js';

export type HeartbeatStreamRecord =
  | { eventName: 'INSERT'; newImage: BrokerHeartbeat }
  | { eventName: 'MODIFY'; oldImage: BrokerHeartbeat; newImage: BrokerHeartbeat }
  | { eventName: 'REMOVE'; oldImage: BrokerHeartbeat };

export class MemoryBrokerRegistry implements BrokerRegistry {
  private stream: HeartbeatStreamRecord[] = [];

  constructor(private readonly tables: MemoryTables) {}

  async get(brokerId: BrokerId): Promise<BrokerHeartbeat | null> {
    await this.tables.yieldPoint('brokers.get');
    const stored = this.tables.heartbeats.get(brokerId);
    return stored ? copyOf(stored) : null;
  }

  async list(): Promise<BrokerHeartbeat[]> {
    await this.tables.yieldPoint('brokers.list');
    return [...this.tables.heartbeats.values()].map(copyOf);
  }

  async renew(next: BrokerHeartbeat, now: number): Promise<boolean> {
    await this.tables.yieldPoint('brokers.renew');
    const stored = this.tables.heartbeats.get(next.brokerId);
    if (!stored || stored.incarnation !== next.incarnation || stored.deadlineMs < now) return false;
    if ((stored.shuttingDown ?? false) !== (next.shuttingDown ?? false)) return false;
    if (stored.shutdownDeadlineMs !== next.shutdownDeadlineMs) return false;
    this.put(next);
    return true;
  }

  async register(next: BrokerHeartbeat, previous: BrokerHeartbeat | null, now: number): Promise<boolean> {
    await this.tables.yieldPoint('brokers.register');
    const stored = this.tables.heartbeats.get(next.brokerId);
    const allowed =
      previous === null
        ? stored === undefined
        : stored !== undefined && stored.incarnation === previous.incarnation && stored.deadlineMs < now;
    if (!allowed) return false;
    this.put(next);
    return true;
  }

  async deleteIfExpired(brokerId: BrokerId, incarnation: number, now: number): Promise<boolean> {
    await this.tables.yieldPoint('brokers.deleteIfExpired');
    const stored = this.tables.heartbeats.get(brokerId);
    if (!stored || stored.incarnation !== incarnation || stored.deadlineMs >= now) return false;
    this.tables.heartbeats.delete(brokerId);
    this.stream.push({ eventName: 'REMOVE', oldImage: copyOf(stored) });
    return true;
  }

  async markShuttingDown(brokerId: BrokerId, incarnation: number, deadlineMs: number): Promise<boolean> {
    await this.tables.yieldPoint('brokers.markShuttingDown');
    const stored = this.tables.heartbeats.get(brokerId);
    if (!stored || stored.incarnation !== incarnation) return false;
    this.put({ ...stored, shuttingDown: true, shutdownDeadlineMs: deadlineMs });
    return true;
  }

  /** A broker deleting its own lease on shutdown (the stream's REMOVE of a live lease). */
  async deregister(brokerId: BrokerId, incarnation: number): Promise<boolean> {
    await this.tables.yieldPoint('brokers.deregister');
    const stored = this.tables.heartbeats.get(brokerId);
    if (!stored || stored.incarnation !== incarnation) return false;
    this.tables.heartbeats.delete(brokerId);
    this.stream.push({ eventName: 'REMOVE', oldImage: copyOf(stored) });
    return true;
  }

  /** The stream records written since the last drain, in order. */
  drainStream(): HeartbeatStreamRecord[] {
    const drained = this.stream;
    this.stream = [];
    return drained;
  }

  private put(next: BrokerHeartbeat): void {
    const stored = this.tables.heartbeats.get(next.brokerId);
    this.tables.heartbeats.set(next.brokerId, copyOf(next));
    this.stream.push(
      stored
        ? { eventName: 'MODIFY', oldImage: copyOf(stored), newImage: copyOf(next) }
        : { eventName: 'INSERT', newImage: copyOf(next) },
    );
  }
}
