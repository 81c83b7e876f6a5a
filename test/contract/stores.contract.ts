/**
 * One contract for the three stores (BrokerRegistry, MetadataStore, PartitionLog),
 * run against the memory adapters (test/unit/adapters/memory-store-contract.test.ts)
 * and the DynamoDB adapters (test/e2e/adapters/dynamodb-store-contract.test.ts).
 *
 * Why: the domain tests and the deterministic simulation run on the memory stores,
 * so they prove something about production only if those stores refuse exactly what
 * DynamoDB's conditions and transactions refuse, with the same named outcome
 * (false / StaleEpochError / TopicExistsError / a plain Error for a caller bug).
 *
 * `open` may hand every test the same stores (DynamoDB keeps its tables for the whole
 * file), so every test uses its own topic and broker names and never asserts on
 * another test's data: global listings are filtered to the test's own names.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { aTopicFixture, leaseOf } from '../factories/entities.js';
import { StaleEpochError, TopicExistsError, ValidationError } from '../../functions/domain/errors.js';
import { MAX_RECORDS_PER_WRITE } from '../../functions/domain/limits.js';
import type {
  BrokerHeartbeat,
  LogRecord,
  PartitionMetadata,
  ReplicaState,
} from '../../functions/domain/model.js';
import type { BrokerIdentityReader, BrokerRegistry, LeadershipUpdate, MetadataStore, PartitionLog } from '../../functions/ports/index.js';

/** A heartbeat-table change as the failure detector sees it (DynamoDB's decodeHeartbeatChange without the sequence number). */
export type ContractHeartbeatChange =
  | { kind: 'registered'; heartbeat: BrokerHeartbeat }
  | { kind: 'gone'; heartbeat: BrokerHeartbeat }
  | { kind: 'renewed' };

export interface ContractStreams {
  /** Heartbeat-table changes since the last call, in order. */
  heartbeatChanges(): Promise<ContractHeartbeatChange[]>;
  /** Log-table inserts of leader copies since the last call, in order: what the replicate handler is given. */
  leaderAppends(): Promise<LogRecord[]>;
}

export interface ContractStores {
  brokers: BrokerRegistry;
  metadata: MetadataStore;
  identity: BrokerIdentityReader;
  log: PartitionLog;
  /** The clock the log stamps follower writes with (ReplicaState.updatedAt). */
  clock: { set(ms: number): void };
  /** Required: both adapter sets have the two table streams, and their shapes are part of what must agree. */
  streams: ContractStreams;
}

const T0 = 1_000_000;

/** Names unique within the test file, so tests sharing one set of tables never see each other's items. */
let nameCounter = 0;
const fresh = (prefix: string): string => `${prefix}-${++nameCounter}`;


const change = (reason: PartitionMetadata['lastChange']['reason'] = 'CREATED'): PartitionMetadata['lastChange'] => ({
  reason,
  previousLeader: null,
  causeBrokerId: null,
  causeIncarnation: null,
  unclean: false,
  at: T0,
});

const topicFixture = (topic: string, partitions: number, replicas: string[], overrides: Partial<PartitionMetadata> = {}) =>
  aTopicFixture(topic, partitions, replicas, { at: T0, overrides });

const values = (n: number, prefix = 'v') =>
  Array.from({ length: n }, (_, i) => ({ key: i % 2 ? `k${i}` : null, value: `${prefix}${i}` }));

const sortedBy = <T>(items: T[], key: (item: T) => string): T[] =>
  [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

export function describeStoreContract(name: string, open: () => Promise<ContractStores>): void {
  describe(`store contract: ${name}`, () => {
    let stores: ContractStores;
    beforeEach(async () => {
      stores = await open();
      stores.clock.set(T0);
    });

    async function createTopic(topic: string, partitions: number, replicas: string[], overrides: Partial<PartitionMetadata> = {}) {
      const fixture = topicFixture(topic, partitions, replicas, overrides);
      await stores.metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
      return fixture;
    }

    async function stateOf(topic: string, partition: number, brokerId: string): Promise<ReplicaState | undefined> {
      return (await stores.metadata.getReplicaStates(topic, partition)).find((s) => s.brokerId === brokerId);
    }

    const moveLeadership = (topic: string, partition: number, expectedVersion: number, update: Partial<LeadershipUpdate> & { leader: string | null; leaderEpoch: number; isr: string[] }) =>
      stores.metadata.updateLeadership(topic, partition, expectedVersion, { state: 'ONLINE', lastChange: change('LEADER_FAILED'), ...update });

    describe('BrokerRegistry', () => {
      it('registers a new broker once: a second first registration loses', async () => {
        const id = fresh('b');
        const hb = leaseOf(id, 1, T0);
        expect(await stores.brokers.register(hb, null, T0)).toBe(true);
        expect(await stores.brokers.register(leaseOf(id, 2, T0), null, T0)).toBe(false);
        expect(await stores.brokers.get(id)).toEqual(hb);
        expect(await stores.brokers.get(fresh('nobody'))).toBeNull();
      });

      it('renews only the same incarnation while its lease is live (deadline >= now), writing nothing otherwise', async () => {
        const id = fresh('b');
        await stores.brokers.register(leaseOf(id, 1, T0), null, T0); // deadline T0 + 9000
        expect(await stores.brokers.renew(leaseOf(id, 1, T0 + 9_000), T0 + 9_000)).toBe(true); // at the deadline: live
        expect(await stores.brokers.renew(leaseOf(id, 2, T0 + 10_000), T0 + 10_000)).toBe(false); // other incarnation
        expect(await stores.brokers.renew(leaseOf(id, 1, T0 + 18_001), T0 + 18_001)).toBe(false); // lapsed at T0 + 18_000
        expect(await stores.brokers.renew(leaseOf(fresh('absent'), 1, T0), T0)).toBe(false); // no item
        expect(await stores.brokers.get(id)).toEqual(leaseOf(id, 1, T0 + 9_000));
      });

      it('re-registers over exactly the lapsed incarnation, never over a live one or a different one', async () => {
        const id = fresh('b');
        const first = leaseOf(id, 1, T0); // deadline T0 + 9000
        await stores.brokers.register(first, null, T0);
        expect(await stores.brokers.register(leaseOf(id, 2, T0 + 9_000), first, T0 + 9_000)).toBe(false); // still live
        expect(await stores.brokers.register(leaseOf(id, 2, T0 + 20_000), leaseOf(id, 7, 0), T0 + 20_000)).toBe(false); // wrong previous
        expect(await stores.brokers.register(leaseOf(id, 2, T0 + 20_000), null, T0 + 20_000)).toBe(false); // "absent" but it exists, lapsed or not
        expect(await stores.brokers.register(leaseOf(id, 2, T0 + 20_000), first, T0 + 20_000)).toBe(true);
        expect(await stores.brokers.get(id)).toEqual(leaseOf(id, 2, T0 + 20_000));
        const ghost = fresh('ghost');
        expect(await stores.brokers.register(leaseOf(ghost, 2, T0), leaseOf(ghost, 1, 0), T0 + 20_000)).toBe(false); // previous gone
        expect(await stores.brokers.get(ghost)).toBeNull();
      });

      it('deletes only the expired incarnation named (deadline < now)', async () => {
        const id = fresh('b');
        await stores.brokers.register(leaseOf(id, 3, T0), null, T0); // deadline T0 + 9000
        expect(await stores.brokers.deleteIfExpired(id, 3, T0 + 9_000)).toBe(false); // at the deadline: still live
        expect(await stores.brokers.deleteIfExpired(id, 2, T0 + 20_000)).toBe(false); // other incarnation
        expect(await stores.brokers.deleteIfExpired(fresh('absent'), 1, T0 + 20_000)).toBe(false); // no item
        expect(await stores.brokers.get(id)).not.toBeNull();
        expect(await stores.brokers.deleteIfExpired(id, 3, T0 + 9_001)).toBe(true);
        expect(await stores.brokers.get(id)).toBeNull();
        expect(await stores.brokers.deleteIfExpired(id, 3, T0 + 9_001)).toBe(false); // already gone
      });

      it('marks a shutdown, with its deadline, on exactly the incarnation named, and renewals carry it or lose', async () => {
        const id = fresh('b');
        const until = T0 + 60_000;
        await stores.brokers.register(leaseOf(id, 4, T0), null, T0);
        expect(await stores.brokers.markShuttingDown(id, 3, until)).toBe(false); // other incarnation
        expect(await stores.brokers.markShuttingDown(fresh('absent'), 1, until)).toBe(false); // no item (and none created)
        expect(await stores.brokers.renew(leaseOf(id, 4, T0 + 1_000), T0 + 1_000)).toBe(true); // no flag yet: renews
        expect(await stores.brokers.markShuttingDown(id, 4, until)).toBe(true);
        const marked = { shuttingDown: true as const, shutdownDeadlineMs: until };
        expect(await stores.brokers.get(id)).toEqual({ ...leaseOf(id, 4, T0 + 1_000), ...marked });
        // A renewal that read the lease before the flag would clear it: refused.
        expect(await stores.brokers.renew(leaseOf(id, 4, T0 + 2_000), T0 + 2_000)).toBe(false);
        // One that read an earlier mark would bring back its deadline: refused too.
        expect(await stores.brokers.renew({ ...leaseOf(id, 4, T0 + 2_000), shuttingDown: true }, T0 + 2_000)).toBe(false);
        expect(await stores.brokers.renew({ ...leaseOf(id, 4, T0 + 2_000), ...marked }, T0 + 2_000)).toBe(true);
        expect(await stores.brokers.get(id)).toEqual({ ...leaseOf(id, 4, T0 + 2_000), ...marked });
      });

      it('deregisters exactly the incarnation named, live or not, once', async () => {
        const id = fresh('b');
        await stores.brokers.register(leaseOf(id, 5, T0), null, T0); // live until T0 + 9000
        expect(await stores.brokers.deregister(id, 4)).toBe(false); // other incarnation
        expect(await stores.brokers.deregister(fresh('absent'), 1)).toBe(false);
        expect(await stores.brokers.get(id)).not.toBeNull();
        expect(await stores.brokers.deregister(id, 5)).toBe(true);
        expect(await stores.brokers.get(id)).toBeNull();
        expect(await stores.brokers.deregister(id, 5)).toBe(false); // already gone
      });

      it('lists every stored heartbeat, expired or not', async () => {
        const live = leaseOf(fresh('b'), 1, T0);
        const lapsed = leaseOf(fresh('b'), 1, 0);
        await stores.brokers.register(live, null, T0);
        await stores.brokers.register(lapsed, null, 0);
        const ours = (await stores.brokers.list()).filter((hb) => [live.brokerId, lapsed.brokerId].includes(hb.brokerId));
        expect(sortedBy(ours, (hb) => hb.brokerId)).toEqual(sortedBy([live, lapsed], (hb) => hb.brokerId));
      });

      it('streams a lease as registered, renewed (any overwrite, a re-registration too) and gone', async () => {
        const { streams } = stores;
        await streams.heartbeatChanges(); // what earlier tests wrote
        const id = fresh('b');
        const first = leaseOf(id, 1, T0);
        await stores.brokers.register(first, null, T0);
        await stores.brokers.renew(leaseOf(id, 1, T0 + 1_000), T0 + 1_000);
        await stores.brokers.renew(leaseOf(id, 2, T0 + 1_000), T0 + 1_000); // refused: no record
        await stores.brokers.register(leaseOf(id, 2, T0 + 20_000), leaseOf(id, 1, T0 + 1_000), T0 + 20_000);
        await stores.brokers.deleteIfExpired(id, 2, T0 + 20_000); // refused (live): no record
        await stores.brokers.deleteIfExpired(id, 2, T0 + 40_000);
        expect(await streams.heartbeatChanges()).toEqual([
          { kind: 'registered', heartbeat: first },
          { kind: 'renewed' },
          { kind: 'renewed' },
          { kind: 'gone', heartbeat: leaseOf(id, 2, T0 + 20_000) },
        ]);
      });
    });

    describe('MetadataStore', () => {
      it('creates a topic with its partitions and replica states, and reads them back', async () => {
        const topic = fresh('orders');
        // Replicas out of name order: replica states still come back ordered by broker id (the table's sort key).
        const fixture = await createTopic(topic, 2, ['B', 'A']);
        expect(await stores.metadata.getTopic(topic)).toEqual(fixture.config);
        expect(await stores.metadata.getTopic(fresh('ghost'))).toBeNull();
        expect(await stores.metadata.getPartition(topic, 2)).toEqual(fixture.partitions[1]);
        expect(await stores.metadata.getPartition(topic, 3)).toBeNull();
        expect(await stores.metadata.listPartitions(topic)).toEqual(fixture.partitions);
        expect(await stores.metadata.listPartitions(fresh('ghost'))).toEqual([]);
        expect(await stores.metadata.getReplicaStates(topic, 1)).toEqual(
          sortedBy(fixture.replicas.filter((r) => r.partition === 1), (r) => r.brokerId),
        );
        expect(await stores.metadata.getReplicaStates(topic, 3)).toEqual([]);
        expect(await stores.metadata.listReplicaStates(topic)).toEqual(
          sortedBy(fixture.replicas, (r) => `${r.partition}#${r.brokerId}`),
        );
        expect(await stores.metadata.listReplicaStates(fresh('ghost'))).toEqual([]);
      });

      it('reads many partitions at once, in the order asked, null where missing, each as last written', async () => {
        const topic = fresh('orders');
        const other = fresh('logs');
        // 150 partitions: more than one BatchGetItem (100 keys) holds.
        const fixture = await createTopic(topic, 150, ['A', 'B']);
        const second = await createTopic(other, 1, ['A']);
        const first = fixture.partitions[0];
        const moved = await stores.metadata.updateLeadership(topic, 1, first.version, {
          leader: 'B',
          leaderEpoch: first.leaderEpoch + 1,
          isr: ['B'],
          state: 'ONLINE',
          lastChange: change('LEADER_FAILED'),
        });
        const asked = [
          { topic: other, partition: 1 },
          { topic, partition: 151 },
          ...Array.from({ length: 150 }, (_, i) => ({ topic, partition: 150 - i })),
          { topic: fresh('ghost'), partition: 1 },
        ];
        const read = await stores.metadata.getPartitions(asked);
        expect(read).toEqual([second.partitions[0], null, ...[...fixture.partitions.slice(1)].reverse(), moved, null]);
        expect(await stores.metadata.getPartitions([])).toEqual([]);
        expect(await stores.metadata.getPartitions([{ topic, partition: 1 }])).toEqual([moved]);
        expect(await stores.metadata.getPartitions([{ topic, partition: 151 }])).toEqual([null]);
      });

      it('peeks at many partitions (a span of a topic, scattered ones, several topics) in the order asked, null where missing', async () => {
        const topic = fresh('orders');
        const other = fresh('logs');
        const fixture = await createTopic(topic, 120, ['A', 'B']);
        await createTopic(other, 3, ['A']);
        const first = fixture.partitions[0];
        await stores.metadata.advanceHighWatermark(topic, 1, first.version, 7);
        // Eventually consistent: a store that shows writes at once (these do) answers as getPartitions.
        const spans = [
          ...Array.from({ length: 100 }, (_, i) => ({ topic, partition: 100 - i })),
          { topic: other, partition: 3 },
          { topic: other, partition: 4 },
          { topic: fresh('ghost'), partition: 1 },
        ];
        const scattered = [
          { topic, partition: 120 },
          { topic, partition: 1 },
          { topic: other, partition: 1 },
        ];
        for (const asked of [spans, scattered]) {
          const peeked = await stores.metadata.peekPartitions(asked);
          expect(peeked).toEqual(await stores.metadata.getPartitions(asked));
          expect(peeked.filter((p) => p === null)).toHaveLength(asked === spans ? 2 : 0);
        }
        expect((await stores.metadata.peekPartitions([{ topic, partition: 1 }]))[0]?.highWatermark).toBe(7);
        expect(await stores.metadata.peekPartitions([])).toEqual([]);
      });

      it('lists topics by name and partitions by topic then number', async () => {
        const second = fresh('zz');
        const first = fresh('aa');
        await createTopic(second, 1, ['A']);
        await createTopic(first, 2, ['A']);
        const ours = [first, second];
        expect((await stores.metadata.listTopics()).map((t) => t.topic).filter((t) => ours.includes(t))).toEqual(ours);
        const partitions = (await stores.metadata.listPartitions()).filter((p) => ours.includes(p.topic));
        expect(partitions.map((p) => [p.topic, p.partition])).toEqual([[first, 1], [first, 2], [second, 1]]);
      });

      it('refuses an existing topic with TopicExistsError and writes nothing of the second attempt', async () => {
        const topic = fresh('orders');
        const fixture = await createTopic(topic, 2, ['A', 'B']);
        const again = topicFixture(topic, 3, ['C']);
        await expect(stores.metadata.createTopic(again.config, again.partitions, again.replicas)).rejects.toThrow(TopicExistsError);
        expect(await stores.metadata.getTopic(topic)).toEqual(fixture.config);
        expect(await stores.metadata.listPartitions(topic)).toEqual(fixture.partitions);
        expect(await stores.metadata.getReplicaStates(topic, 1)).toEqual(fixture.replicas.filter((r) => r.partition === 1));
      });

      it('has no unfinished creation for a created or an absent topic, and refuses to finish a created one, writing nothing', async () => {
        const topic = fresh('orders');
        const fixture = await createTopic(topic, 30, ['A', 'B', 'C']);
        expect(await stores.metadata.getUnfinishedTopic(topic)).toBeNull();
        expect(await stores.metadata.getUnfinishedTopic(fresh('absent'))).toBeNull();
        const extra = topicFixture(topic, 31, ['D']);
        const partition31 = extra.partitions.filter((p) => p.partition === 31);
        await expect(
          stores.metadata.finishTopicCreation(topic, partition31, extra.replicas.filter((r) => r.partition === 31)),
        ).rejects.toThrow(TopicExistsError);
        expect(await stores.metadata.getPartition(topic, 31)).toBeNull();
        expect(await stores.metadata.getTopic(topic)).toEqual(fixture.config);
      });

      it('updates leadership only at the expected version, bumping it and keeping the high watermark', async () => {
        const topic = fresh('orders');
        const [created] = (await createTopic(topic, 1, ['A', 'B'])).partitions;
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 0, 5)).toBe(true);
        const update: LeadershipUpdate = {
          leader: 'B',
          leaderEpoch: 1,
          isr: ['B'],
          state: 'ONLINE',
          lastChange: { reason: 'LEADER_FAILED', previousLeader: 'A', causeBrokerId: 'A', causeIncarnation: 1, unclean: false, at: T0 + 1 },
        };
        const updated = await stores.metadata.updateLeadership(topic, 1, 0, update);
        expect(updated).toEqual({ ...created, ...update, version: 1, highWatermark: 5 });
        expect(await stores.metadata.getPartition(topic, 1)).toEqual(updated);

        const stale = stores.metadata.updateLeadership(topic, 1, 0, { ...update, leader: 'A', leaderEpoch: 2 });
        await expect(stale).rejects.toThrow(StaleEpochError);
        await expect(stale).rejects.toThrow(/version is no longer 0/);
        expect(await stores.metadata.getPartition(topic, 1)).toEqual(updated);
      });

      it('applies a batch of leadership writes each on its own: the stale ones refused (null), the others written', async () => {
        const topic = fresh('batch');
        const { partitions } = await createTopic(topic, 30, ['A', 'B', 'C']);
        expect(await stores.metadata.advanceHighWatermark(topic, 2, 0, 7)).toBe(true);
        // Partition 3 moves first: the batch's write, decided at version 0, must lose.
        await moveLeadership(topic, 3, 0, { leader: 'C', leaderEpoch: 1, isr: ['C'] });
        const lastChange = { reason: 'LEADER_FAILED' as const, previousLeader: 'A', causeBrokerId: 'A', causeIncarnation: 1, unclean: false, at: T0 + 1 };
        const writes = partitions.map((partition) => ({
          partition,
          update: partition.partition === 5
            ? { leader: null, leaderEpoch: 1, isr: ['A'], state: 'OFFLINE' as const, lastChange }
            : partition.partition === 6
              ? { leader: 'C', leaderEpoch: 1, isr: ['C'], state: 'ONLINE' as const, lastChange: { ...lastChange, reason: 'UNCLEAN_ELECTION' as const, unclean: true }, highWatermark: 0 }
              : { leader: 'B', leaderEpoch: 1, isr: ['B', 'C'], state: 'ONLINE' as const, lastChange },
        }));
        const written = await stores.metadata.updateLeaderships(writes);
        expect(written).toHaveLength(30);
        expect(written[2]).toBeNull();
        for (const [index, result] of written.entries()) {
          if (index === 2) continue;
          const stored = await stores.metadata.getPartition(topic, index + 1);
          expect(stored).toMatchObject({ ...writes[index].update, version: 1 });
          // What the batch answers is what is stored, but an HW advanced meanwhile (not versioned) may show as read.
          expect({ ...result, highWatermark: stored!.highWatermark }).toEqual(stored);
          expect(index === 1 ? [0, 7] : [stored!.highWatermark]).toContain(result!.highWatermark);
        }
        expect((await stores.metadata.listPartitionsLedBy('B')).filter((p) => p.topic === topic)).toHaveLength(27);
        // The offline partition left the leader index.
        expect((await stores.metadata.listPartitionsLedBy('A')).filter((p) => p.topic === topic)).toEqual([]);
        expect(await stores.metadata.getPartition(topic, 3)).toMatchObject({ leader: 'C', version: 1 });
        // Again at version 0: every write refused, nothing changed.
        expect(await stores.metadata.updateLeaderships(writes.slice(0, 3))).toEqual([null, null, null]);
      });

      it('refuses a leadership write to a partition that does not exist with StaleEpochError, creating nothing', async () => {
        const topic = fresh('ghost');
        const update: LeadershipUpdate = { leader: 'B', leaderEpoch: 1, isr: ['B'], state: 'ONLINE', lastChange: change('LEADER_FAILED') };
        // DynamoDB's version condition fails on an absent item: the same refusal as a moved version.
        await expect(stores.metadata.updateLeadership(topic, 1, 0, update)).rejects.toThrow(StaleEpochError);
        expect(await stores.metadata.getPartition(topic, 1)).toBeNull();
      });

      it('applies an ISR admission only while the high watermark is at most the given one', async () => {
        const topic = fresh('orders');
        await createTopic(topic, 1, ['A', 'B'], { isr: ['A'] });
        await stores.metadata.advanceHighWatermark(topic, 1, 0, 5);
        const admission = { leader: 'A', leaderEpoch: 0, isr: ['A', 'B'], lastChange: change('ISR_EXPANDED') };
        await expect(moveLeadership(topic, 1, 0, { ...admission, highWatermarkAtMost: 4 })).rejects.toThrow(StaleEpochError);
        expect(await stores.metadata.getPartition(topic, 1)).toMatchObject({ isr: ['A'], version: 0, highWatermark: 5 });
        expect(await moveLeadership(topic, 1, 0, { ...admission, highWatermarkAtMost: 5 })).toMatchObject({
          isr: ['A', 'B'],
          version: 1,
          highWatermark: 5,
        });
      });

      it('sets the high watermark only when the update carries one, lower included (an unclean election)', async () => {
        const topic = fresh('orders');
        await createTopic(topic, 1, ['A', 'B']);
        await stores.metadata.advanceHighWatermark(topic, 1, 0, 7);
        const unclean = await moveLeadership(topic, 1, 0, { leader: 'B', leaderEpoch: 1, isr: ['B'], highWatermark: 2, lastChange: change('UNCLEAN_ELECTION') });
        expect(unclean).toMatchObject({ leader: 'B', highWatermark: 2, version: 1 });
        expect(await moveLeadership(topic, 1, 1, { leader: 'B', leaderEpoch: 1, isr: ['B', 'A'] })).toMatchObject({ highWatermark: 2, version: 2 });
        expect((await stores.metadata.getPartition(topic, 1))?.highWatermark).toBe(2);
      });

      it('lists the partitions a broker leads, following leadership changes, and none once leaderless', async () => {
        const topic = fresh('orders');
        const [a, b] = [fresh('A'), fresh('B')];
        await createTopic(topic, 2, [a, b]);
        const ledBy = async (broker: string) =>
          (await stores.metadata.listPartitionsLedBy(broker)).filter((p) => p.topic === topic).map((p) => p.partition);
        expect(await ledBy(a)).toEqual([1, 2]);
        const moved = await moveLeadership(topic, 2, 0, { leader: b, leaderEpoch: 1, isr: [b] });
        expect(await ledBy(a)).toEqual([1]);
        expect(await stores.metadata.listPartitionsLedBy(b)).toEqual([moved]);
        await moveLeadership(topic, 2, 1, { leader: null, leaderEpoch: 1, isr: [], state: 'OFFLINE' });
        expect(await ledBy(b)).toEqual([]);
      });

      it('advances the high watermark monotonically, only at the version it was computed at', async () => {
        const topic = fresh('orders');
        await createTopic(topic, 1, ['A', 'B']);
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 0, 3)).toBe(true);
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 0, 3)).toBe(false); // not above
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 0, 2)).toBe(false); // backwards
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 7, 9)).toBe(false); // other version
        expect(await stores.metadata.advanceHighWatermark(fresh('ghost'), 1, 0, 9)).toBe(false); // no partition
        await moveLeadership(topic, 1, 0, { leader: 'A', leaderEpoch: 0, isr: ['A'], lastChange: change('ISR_SHRUNK') });
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 0, 4)).toBe(false); // computed before the ISR changed
        expect(await stores.metadata.advanceHighWatermark(topic, 1, 1, 4)).toBe(true);
        expect(await stores.metadata.getPartition(topic, 1)).toMatchObject({ highWatermark: 4, version: 1 });
      });

      it('keeps one credential per broker, replaced by the next registration, and none for a broker never registered', async () => {
        const broker = fresh('broker');
        const digest = (fill: number) => Buffer.alloc(32, fill).toString('base64');
        const first = { brokerId: broker, salt: digest(1), hash: digest(2), registeredAt: T0 };
        expect(await stores.metadata.getBrokerCredential(broker)).toBeNull();
        expect(await stores.metadata.putBrokerCredential(first)).toBe(false);
        expect(await stores.metadata.getBrokerCredential(broker)).toEqual(first);
        const rotated = { brokerId: broker, salt: digest(3), hash: digest(4), registeredAt: T0 + 1 };
        expect(await stores.metadata.putBrokerCredential(rotated)).toBe(true);
        expect(await stores.metadata.getBrokerCredential(broker)).toEqual(rotated);
        expect(await stores.metadata.getBrokerCredential(fresh('broker'))).toBeNull();
        // A credential is no topic, partition or replica.
        expect((await stores.metadata.listTopics()).map((config) => config.topic)).not.toContain(broker);
        expect((await stores.metadata.listPartitions()).filter((p) => p.topic === broker)).toEqual([]);
      });

      it('reads a broker\'s lease and credential together, each as last written, null where missing', async () => {
        const broker = fresh('broker');
        const none = await stores.identity.read(broker);
        expect(none.credential).toBeNull();
        expect(none.lease()).toBeNull();

        const credential = { brokerId: broker, salt: Buffer.alloc(32, 5).toString('base64'), hash: Buffer.alloc(32, 6).toString('base64'), registeredAt: T0 };
        await stores.metadata.putBrokerCredential(credential);
        const registeredOnly = await stores.identity.read(broker);
        expect(registeredOnly.credential).toEqual(credential);
        expect(registeredOnly.lease()).toBeNull();

        const lease = leaseOf(broker, 7, T0);
        expect(await stores.brokers.register(lease, null, T0)).toBe(true);
        const both = await stores.identity.read(broker);
        expect(both.credential).toEqual(credential);
        expect(both.lease()).toEqual(await stores.brokers.get(broker));
        expect(both.lease()).toMatchObject({ brokerId: broker, incarnation: 7 });
      });
    });

    describe('PartitionLog', () => {
      let topic: string;
      beforeEach(async () => {
        topic = fresh('events');
        await createTopic(topic, 1, ['L', 'F']);
      });
      const leaderAppend = (startOffset: number, records = values(1, `at${startOffset}-`), overrides: { leader?: string; leaderEpoch?: number } = {}) => ({
        topic,
        partition: 1,
        leader: 'L',
        leaderEpoch: 0,
        startOffset,
        generation: 0,
        records,
        appendedAt: T0 + 42,
        ...overrides,
      });
      const followerAppend = (records: LogRecord[], leaderEpoch = 0, follower = 'F', generation = 0) => ({ topic, partition: 1, follower, leaderEpoch, records, generation });

      it('appends as leader: records at the offsets, the LEO moved, stamped with appendedAt and the bounds of their batch', async () => {
        const appended = await stores.log.appendAsLeader(leaderAppend(0, values(3)));
        expect(appended).toEqual(
          values(3).map((r, offset) => ({
            topic,
            partition: 1,
            replica: 'L',
            offset,
            leaderEpoch: 0,
            ...r,
            appendedAt: T0 + 42,
            copy: 'leader',
            batch: { baseOffset: 0, lastOffset: 2 },
          })),
        );
        expect(await stores.log.read(topic, 1, 'L', 0, 10)).toEqual(appended);
        expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 3, updatedAt: T0 + 42 });
      });

      it('tells when the batch item at an offset of a generation was written, committed or not, and null where none is', async () => {
        await stores.log.appendAsLeader(leaderAppend(0, values(2)));
        expect(await stores.log.batchWrittenAt(topic, 1, 'L', 0, 0)).toBe(T0 + 42);
        expect(await stores.log.batchWrittenAt(topic, 1, 'L', 0, 2)).toBeNull();
        expect(await stores.log.batchWrittenAt(topic, 1, 'L', 1, 0)).toBeNull();
        expect(await stores.log.batchWrittenAt(topic, 1, 'F', 0, 0)).toBeNull();
      });

      it('fences a leader append whose leader, epoch or log end moved, or whose partition does not exist: StaleEpochError, nothing written', async () => {
        await stores.log.appendAsLeader(leaderAppend(0, values(2)));
        await expect(stores.log.appendAsLeader(leaderAppend(2, undefined, { leader: 'F' }))).rejects.toThrow(StaleEpochError);
        await expect(stores.log.appendAsLeader(leaderAppend(2, undefined, { leaderEpoch: 1 }))).rejects.toThrow(StaleEpochError);
        // Behind the LEO: where a stale read of it would put a batch, at a log end the log has moved on from.
        await expect(stores.log.appendAsLeader(leaderAppend(0))).rejects.toThrow(StaleEpochError);
        await expect(stores.log.appendAsLeader({ ...leaderAppend(0), topic: fresh('ghost') })).rejects.toThrow(StaleEpochError);
        expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 2 });
        expect((await stores.log.read(topic, 1, 'L', 0, 10)).map((r) => r.value)).toEqual(['v0', 'v1']);
      });

      it('fences the loser of two appends at the same offset (sequential, so DynamoDB sees no transaction conflict)', async () => {
        const won = await stores.log.appendAsLeader(leaderAppend(0, values(2, 'first')));
        await expect(stores.log.appendAsLeader(leaderAppend(0, values(1, 'second')))).rejects.toThrow(StaleEpochError);
        expect(await stores.log.read(topic, 1, 'L', 0, 10)).toEqual(won);
      });

      it('fences an append by a broker that holds no replica of the partition', async () => {
        await moveLeadership(topic, 1, 0, { leader: 'X', leaderEpoch: 1, isr: ['X'] });
        // Leader and epoch hold; the missing replica state fails DynamoDB's LEO condition.
        await expect(stores.log.appendAsLeader(leaderAppend(0, undefined, { leader: 'X', leaderEpoch: 1 }))).rejects.toThrow(StaleEpochError);
        expect(await stores.log.read(topic, 1, 'X', 0, 10)).toEqual([]);
      });

      it('writes nothing for an empty leader append, and checks nothing either (no transaction is sent)', async () => {
        expect(await stores.log.appendAsLeader(leaderAppend(0, []))).toEqual([]);
        expect(await stores.log.appendAsLeader(leaderAppend(5, [], { leader: 'F', leaderEpoch: 9 }))).toEqual([]);
        expect(await stateOf(topic, 1, 'L')).toEqual({ topic, partition: 1, brokerId: 'L', logEndOffset: 0, matchedEpoch: 0, updatedAt: T0 });
      });

      it('refuses more records than one transaction holds, on either append, with a ValidationError', async () => {
        const tooMany = values(MAX_RECORDS_PER_WRITE + 1);
        await expect(stores.log.appendAsLeader(leaderAppend(0, tooMany))).rejects.toThrow(ValidationError);
        const records = tooMany.map((r, offset): LogRecord => ({ topic, partition: 1, replica: 'L', offset, leaderEpoch: 0, ...r, appendedAt: T0, copy: 'leader' }));
        await expect(stores.log.appendAsFollower(followerAppend(records))).rejects.toThrow(ValidationError);
        expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 0 });
      });

      it('copies to a follower at its log end, in the epoch it was matched in, stamped by the clock', async () => {
        const records = await stores.log.appendAsLeader(leaderAppend(0, values(3)));
        stores.clock.set(T0 + 777);
        await stores.log.appendAsFollower(followerAppend(records.slice(0, 2)));
        await stores.log.appendAsFollower(followerAppend(records.slice(2)));
        expect(await stores.log.read(topic, 1, 'F', 0, 10)).toEqual(records.map((r) => ({ ...r, replica: 'F', copy: 'follower' })));
        expect(await stateOf(topic, 1, 'F')).toEqual({ topic, partition: 1, brokerId: 'F', logEndOffset: 3, matchedEpoch: 0, appendEpoch: 0, updatedAt: T0 + 777 });
      });

      it('keeps each record\'s batch bounds through a copy of several batches, and reads a record stored without them as it was', async () => {
        const first = await stores.log.appendAsLeader(leaderAppend(0, values(2, 'a')));
        const second = await stores.log.appendAsLeader(leaderAppend(2, values(3, 'b')));
        await stores.log.appendAsFollower(followerAppend([...first, ...second]));
        const copied = await stores.log.read(topic, 1, 'F', 0, 10);
        expect(copied.map((r) => r.batch)).toEqual([
          ...first.map(() => ({ baseOffset: 0, lastOffset: 1 })),
          ...second.map(() => ({ baseOffset: 2, lastOffset: 4 })),
        ]);
        const { batch: _, ...unbounded } = await stores.log.appendAsLeader(leaderAppend(5, values(1, 'c'))).then((r) => r[0]);
        await stores.log.appendAsFollower(followerAppend([unbounded]));
        expect(await stores.log.read(topic, 1, 'F', 5, 6)).toEqual([{ ...unbounded, replica: 'F', copy: 'follower' }]);
      });

      it('keeps a topic\'s compression.type, and every field of its records exactly, through appends, copies and a cut inside a batch', async () => {
        const gzipTopic = fresh('gzipped');
        const fixture = topicFixture(gzipTopic, 1, ['L', 'F']);
        const config = { ...fixture.config, compressionType: 'gzip' as const };
        await stores.metadata.createTopic(config, fixture.partitions, fixture.replicas);
        expect(await stores.metadata.getTopic(gzipTopic)).toEqual(config);
        const json = (i: number) => JSON.stringify({ order: i, status: 'CONFIRMED', note: 'ünïcødé ✓ 𝄞' }).repeat(20);
        const stamped = (from: number, n: number, sequence: number) =>
          Array.from({ length: n }, (_, i) => ({
            key: i % 3 === 0 ? null : `k-${from + i}`,
            value: i === 1 ? '' : json(from + i),
            producer: { producerId: 7, producerEpoch: 1, sequence: sequence + i },
          }));
        const append = { partition: 1, leader: 'L', leaderEpoch: 0, generation: 0, appendedAt: T0 + 5 };
        const first = await stores.log.appendAsLeader({ ...append, topic: gzipTopic, startOffset: 0, records: stamped(0, 5, 0) });
        const second = await stores.log.appendAsLeader({ ...append, topic: gzipTopic, startOffset: 5, records: stamped(5, 3, 5), appendedAt: T0 + 9 });
        const leaders = [...first, ...second];
        expect(await stores.log.read(gzipTopic, 1, 'L', 0, 10)).toEqual(leaders);
        await stores.log.appendAsFollower({ topic: gzipTopic, partition: 1, follower: 'F', leaderEpoch: 0, records: leaders, generation: 0 });
        const copies = leaders.map((r) => ({ ...r, replica: 'F', copy: 'follower' }));
        expect(await stores.log.read(gzipTopic, 1, 'F', 0, 10)).toEqual(copies);
        expect(await stores.log.read(gzipTopic, 1, 'F', 4, 6)).toEqual(copies.slice(4, 6));
        // F leads epoch 1 with L deposed: L's log is cut inside its first batch, which is then read only up to the cut.
        await moveLeadership(gzipTopic, 1, 0, { leader: 'F', leaderEpoch: 1, isr: ['F'] });
        await stores.log.matchFollower({ topic: gzipTopic, partition: 1, follower: 'L', leader: 'F', leaderEpoch: 1, expectedLogEnd: 8, expectedGeneration: 0, truncateTo: 3 });
        expect(await stores.log.read(gzipTopic, 1, 'L', 0, 10)).toEqual(leaders.slice(0, 3));
      });

      it('fences a follower copy whose epoch moved, whose follower is unmatched in it, or not at its log end', async () => {
        const records = await stores.log.appendAsLeader(leaderAppend(0, values(3)));
        await stores.log.appendAsFollower(followerAppend(records.slice(0, 1)));
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(1), 1))).rejects.toThrow(StaleEpochError); // epoch is 0
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(0)))).rejects.toThrow(StaleEpochError); // duplicate
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(2)))).rejects.toThrow(StaleEpochError); // hole
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(0), 0, 'X'))).rejects.toThrow(StaleEpochError); // no replica
        // A new epoch: F was matched in 0, so it may not copy in 1 until it is matched again.
        await moveLeadership(topic, 1, 0, { leader: 'L', leaderEpoch: 1, isr: ['L', 'F'] });
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(1), 1))).rejects.toThrow(StaleEpochError);
        await expect(stores.log.appendAsFollower(followerAppend(records.slice(1), 0))).rejects.toThrow(StaleEpochError);
        expect(await stateOf(topic, 1, 'F')).toMatchObject({ logEndOffset: 1, matchedEpoch: 0 });
        expect((await stores.log.read(topic, 1, 'F', 0, 10)).map((r) => r.offset)).toEqual([0]);
      });

      it('fences a diskless follower copy once its epoch no longer leads the partition, though the follower is matched in it; a replicated copy only by the follower', async () => {
        // The records as a diskless leader's log would hold them (a leader append of them would need the object).
        const stored = { object: `objects/contract/${topic}`, start: 0, length: 64 };
        const disklessRecords = (await stores.log.appendAsLeader(leaderAppend(0, values(2)))).map((record) => ({ ...record, stored }));
        const other = fresh('events');
        await createTopic(other, 1, ['L', 'F']);
        const replicatedRecords = await stores.log.appendAsLeader({ ...leaderAppend(0, values(2)), topic: other });
        await moveLeadership(topic, 1, 0, { leader: 'L', leaderEpoch: 1, isr: ['L', 'F'] });
        await moveLeadership(other, 1, 0, { leader: 'L', leaderEpoch: 1, isr: ['L', 'F'] });

        await expect(stores.log.appendAsFollower(followerAppend(disklessRecords, 0))).rejects.toThrow(StaleEpochError);
        expect(await stateOf(topic, 1, 'F')).toMatchObject({ logEndOffset: 0 });
        // F was matched in epoch 0 and nothing of a later epoch wrote to it: its own state lets the copy in.
        await stores.log.appendAsFollower({ ...followerAppend(replicatedRecords, 0), topic: other });
        expect(await stateOf(other, 1, 'F')).toMatchObject({ logEndOffset: 2 });
      });

      it('refuses a non-contiguous or foreign follower copy as a caller bug (a plain Error), and an empty one is a no-op', async () => {
        const records = await stores.log.appendAsLeader(leaderAppend(0, values(3)));
        const gap = stores.log.appendAsFollower(followerAppend([records[0], records[2]]));
        await expect(gap).rejects.toThrow(/non-contiguous/);
        await expect(gap).rejects.not.toBeInstanceOf(StaleEpochError);
        await expect(stores.log.appendAsFollower(followerAppend([{ ...records[0], topic: fresh('other') }]))).rejects.toThrow(/foreign/);
        await expect(stores.log.appendAsFollower(followerAppend([], 9))).resolves.toBeUndefined();
        expect(await stateOf(topic, 1, 'F')).toMatchObject({ logEndOffset: 0 });
      });

      it('reads one replica\'s records in [from, to), skipping offsets it does not hold', async () => {
        await stores.log.appendAsLeader(leaderAppend(0, values(5)));
        expect((await stores.log.read(topic, 1, 'L', 1, 4)).map((r) => r.offset)).toEqual([1, 2, 3]);
        expect((await stores.log.read(topic, 1, 'L', 3, 50)).map((r) => r.offset)).toEqual([3, 4]);
        expect(await stores.log.read(topic, 1, 'L', 2, 2)).toEqual([]);
        expect(await stores.log.read(topic, 1, 'L', 4, 1)).toEqual([]);
        expect(await stores.log.read(topic, 1, 'F', 0, 5)).toEqual([]);
        expect(await stores.log.read(fresh('ghost'), 1, 'L', 0, 5)).toEqual([]);
      });

      it('reads any range of a log of batches of every size whole: from inside, at and past their edges', async () => {
        const sizes = [3, 1, 1, MAX_RECORDS_PER_WRITE, 2];
        let end = 0;
        for (const size of sizes) {
          await stores.log.appendAsLeader(leaderAppend(end, values(size, `b${end}-`)));
          end += size;
        }
        const all = await stores.log.read(topic, 1, 'L', 0, end);
        expect(all.map((r) => r.offset)).toEqual(Array.from({ length: end }, (_, i) => i));
        for (const from of [0, 1, 2, 3, 4, 5, 6, 50, end - 3, end - 2, end - 1, end, end + 1]) {
          for (const to of [from + 1, from + 2, from + MAX_RECORDS_PER_WRITE, end + 100]) {
            expect(await stores.log.read(topic, 1, 'L', from, to), `[${from}, ${to})`).toEqual(all.slice(from, to));
          }
        }
      });

      describe('matchFollower', () => {
        /** L led epoch 0 and wrote 4 records, F copied them all; then F leads epoch 1 with `isr`, and L must be matched. */
        async function deposedLeader(isr: string[], highWatermark: number) {
          const records = await stores.log.appendAsLeader(leaderAppend(0, values(4)));
          await stores.log.appendAsFollower(followerAppend(records));
          await stores.metadata.advanceHighWatermark(topic, 1, 0, highWatermark);
          await moveLeadership(topic, 1, 0, { leader: 'F', leaderEpoch: 1, isr });
          return { topic, partition: 1, follower: 'L', leader: 'F', leaderEpoch: 1, expectedLogEnd: 4, expectedGeneration: 0, truncateTo: 2 };
        }

        it('cuts the log back to truncateTo and marks the follower matched in the epoch; it may then copy again', async () => {
          const match = await deposedLeader(['F'], 2);
          stores.clock.set(T0 + 900);
          await stores.log.matchFollower(match);
          expect((await stores.log.read(topic, 1, 'L', 0, 10)).map((r) => r.offset)).toEqual([0, 1]);
          expect(await stateOf(topic, 1, 'L')).toEqual({
            topic,
            partition: 1,
            brokerId: 'L',
            logEndOffset: 2,
            matchedEpoch: 1,
            appendEpoch: 1,
            generation: 1,
            generations: [
              { from: 0, generation: 0 },
              { from: 2, generation: 1 },
            ],
            updatedAt: T0 + 900,
          });
          const leaders = await stores.log.read(topic, 1, 'F', 2, 4);
          // In the generation the match started: a copy into the one before it is refused.
          await expect(stores.log.appendAsFollower(followerAppend(leaders, 1, 'L', 0))).rejects.toThrow(StaleEpochError);
          await stores.log.appendAsFollower(followerAppend(leaders, 1, 'L', 1));
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 4 });
        });

        it('matches without cutting when the logs agree to the end', async () => {
          const match = await deposedLeader(['F'], 0);
          await stores.log.matchFollower({ ...match, truncateTo: 4 });
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 4, matchedEpoch: 1 });
          expect(await stores.log.read(topic, 1, 'L', 0, 10)).toHaveLength(4);
        });

        it('is fenced by the leader, the epoch, an earlier match in the epoch and a moved log end: StaleEpochError, nothing cut', async () => {
          const match = await deposedLeader(['F'], 0);
          await expect(stores.log.matchFollower({ ...match, leader: 'L' })).rejects.toThrow(StaleEpochError);
          await expect(stores.log.matchFollower({ ...match, leaderEpoch: 0, leader: 'L' })).rejects.toThrow(StaleEpochError);
          await expect(stores.log.matchFollower({ ...match, leaderEpoch: 2 })).rejects.toThrow(StaleEpochError);
          await expect(stores.log.matchFollower({ ...match, expectedLogEnd: 3 })).rejects.toThrow(StaleEpochError);
          await expect(stores.log.matchFollower({ ...match, follower: 'X' })).rejects.toThrow(StaleEpochError); // no replica
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 4, matchedEpoch: 0 });
          expect(await stores.log.read(topic, 1, 'L', 0, 10)).toHaveLength(4);
          await stores.log.matchFollower(match);
          // A second, stale comparison in the same epoch must not cut the matched log again.
          await expect(stores.log.matchFollower({ ...match, expectedLogEnd: 2, truncateTo: 1 })).rejects.toThrow(StaleEpochError);
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 2, matchedEpoch: 1 });
        });

        it('never cuts an in-sync replica below the high watermark, but does cut one outside the ISR', async () => {
          const inSync = await deposedLeader(['F', 'L'], 3);
          await expect(stores.log.matchFollower(inSync)).rejects.toThrow(StaleEpochError);
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 4, matchedEpoch: 0 });
          await stores.log.matchFollower({ ...inSync, truncateTo: 3 }); // at the HW: allowed
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 3, matchedEpoch: 1 });
        });

        it('cuts a replica outside the ISR below the high watermark', async () => {
          const outside = await deposedLeader(['F'], 3);
          await stores.log.matchFollower({ ...outside, truncateTo: 1 });
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 1, matchedEpoch: 1 });
        });

        it('refuses a truncation outside the log as a caller bug (a plain Error), before any write', async () => {
          const match = await deposedLeader(['F'], 0);
          for (const truncateTo of [5, -1, 1.5]) {
            const refused = stores.log.matchFollower({ ...match, truncateTo });
            await expect(refused).rejects.toThrow(/not within its log/);
            await expect(refused).rejects.not.toBeInstanceOf(StaleEpochError);
          }
          expect(await stateOf(topic, 1, 'L')).toMatchObject({ logEndOffset: 4, matchedEpoch: 0 });
        });
      });

      it('streams the leader appends, in order, and not the follower copies or a match\'s deletes', async () => {
        const { streams } = stores;
        await streams.leaderAppends(); // what earlier tests wrote
        const first = await stores.log.appendAsLeader(leaderAppend(0, values(2)));
        const second = await stores.log.appendAsLeader(leaderAppend(2, values(1, 'w')));
        await expect(stores.log.appendAsLeader(leaderAppend(0, values(1)))).rejects.toThrow(StaleEpochError); // fenced: nothing streamed
        await stores.log.appendAsFollower(followerAppend(first));
        await moveLeadership(topic, 1, 0, { leader: 'F', leaderEpoch: 1, isr: ['F'] });
        await stores.log.matchFollower({ topic, partition: 1, follower: 'L', leader: 'F', leaderEpoch: 1, expectedLogEnd: 3, expectedGeneration: 0, truncateTo: 2 });
        expect(await streams.leaderAppends()).toEqual([...first, ...second]);
      });
    });
  });
}
