/**
 * What the run writes into the history the checker judges: batches sent, acknowledged
 * and read, liveness samples (the not-live rule) and, at the end, every partition as
 * read from its leader. (Leader appends are recorded by the log wrapper, world.ts.)
 */
import type { BrokerId, LogRecord } from '../../functions/domain/model.js';
import type { FinalPartition } from './history.js';
import { TOPIC } from './params.js';
import { leaseLive, type World } from './world.js';

export function recordSent(world: World, producer: string, partition: number, values: string[]): void {
  if (world.historyClosed) return;
  world.history.sent.push({ producer, partition: `${TOPIC}-${partition}`, values, step: world.scheduler.steps });
}

export function recordAck(
  world: World,
  producer: string,
  partition: number,
  values: string[],
  result: { leader: BrokerId; leaderEpoch: number; baseOffset: number },
  /** For a batch of a several-partition call: the step the call started, so the ISR is judged when the batch was committed. */
  sentAtStep?: number,
): void {
  const committedWith =
    sentAtStep === undefined
      ? undefined
      : world.commits
          .get(partition)
          ?.find((c) => c.step >= sentAtStep && c.leaderEpoch === result.leaderEpoch && c.hw >= result.baseOffset + values.length)?.isr;
  if (world.historyClosed) return;
  world.history.acks.push({
    producer,
    partition: `${TOPIC}-${partition}`,
    acks: world.params.acks,
    leader: result.leader,
    leaderEpoch: result.leaderEpoch,
    baseOffset: result.baseOffset,
    values,
    isrAtReturn: [...(committedWith ?? world.tables.partitions.get(`${TOPIC}#${partition}`)?.isr ?? [])],
    minInsync: world.params.minInsync,
    step: world.scheduler.steps,
  });
}

export function recordRead(
  world: World,
  consumer: string,
  session: number,
  partition: number,
  offset: number,
  records: ReadonlyArray<Pick<LogRecord, 'offset' | 'value'>>,
): void {
  if (world.historyClosed) return;
  world.history.reads.push({
    consumer,
    session,
    partition: `${TOPIC}-${partition}`,
    offset,
    records: records.map((r) => ({ offset: r.offset, value: r.value })),
    step: world.scheduler.steps,
  });
}

// ---- liveness samples (the not-live rule): what was committed, and who could lead with all of it

const recordId = (record: LogRecord | undefined): string => (record ? `${record.leaderEpoch}/${record.value}` : '');

/**
 * A replica that could lead with every committed record: its log starts with exactly these
 * records (the same values written in another epoch, a retried batch, are another log).
 */
function holderOf(world: World, p: number, replicas: readonly BrokerId[], values: readonly string[]): BrokerId | null {
  for (const id of replicas) {
    // Judged by what the run knows, not by the domain's own view: a broker whose shutdown died is not shutting down.
    const broker = world.brokers.find((b) => b.id === id);
    if (!broker?.running || broker.shuttingDown || !leaseLive(world, id)) continue;
    const log = world.tables.committedLog(TOPIC, p, id);
    if (values.every((value, offset) => recordId(log.get(offset)) === value)) return id;
  }
  return null;
}

/** After every step: a sample for each partition whose leaderless state or live holder changed. */
export function sampleLiveness(world: World): void {
  const { tables, params } = world;
  const { committed, lastSample } = world.liveness;
  for (const p of world.partitions) {
    const m = tables.partitions.get(`${TOPIC}#${p}`);
    // A topic not yet created (its creation cut short) is not there for clients: nothing to keep live.
    if (!m || !tables.topics.has(TOPIC) || tables.unfinishedTopics.has(TOPIC)) continue;
    const leaderless = m.leader === null || m.state !== 'ONLINE';
    let seen = committed.get(p) ?? { epoch: m.leaderEpoch, values: [] };
    if (!leaderless && m.leader !== null) {
      // An unclean election may replace what was committed (and lower the HW): its leader's log is the truth.
      if (seen.epoch !== m.leaderEpoch && params.unclean) seen = { epoch: m.leaderEpoch, values: [] };
      if (m.highWatermark !== seen.values.length) {
        const log = tables.committedLog(TOPIC, p, m.leader);
        seen = { epoch: m.leaderEpoch, values: Array.from({ length: m.highWatermark }, (_, offset) => recordId(log.get(offset))) };
      }
      seen.epoch = m.leaderEpoch;
      committed.set(p, seen);
    }
    const holder = leaderless ? holderOf(world, p, m.replicas, seen.values) : null;
    const previous = lastSample.get(p);
    if (previous && previous.leaderless === leaderless && previous.holder === holder) continue;
    const sample = { partition: `${TOPIC}-${p}`, at: world.now(), step: world.scheduler.steps, leaderless, holder };
    lastSample.set(p, sample);
    world.history.liveness.push(sample);
  }
}

/** Every partition as it ends: state, leader, HW and the committed log read from the leader. */
export function finalState(world: World): FinalPartition[] {
  const { tables, params } = world;
  const topicCreated = tables.topics.has(TOPIC) && !tables.unfinishedTopics.has(TOPIC);
  return world.partitions.map((p) => {
    const m = tables.partitions.get(`${TOPIC}#${p}`);
    if (!topicCreated || !m) {
      return {
        partition: `${TOPIC}-${p}`,
        state: 'OFFLINE' as const,
        leader: null,
        highWatermark: 0,
        leaderLogEnd: 0,
        log: [],
        liveEligibleReplica: null,
        absent: topicCreated ? 'the partition does not exist' : `topic ${TOPIC} was never created (its creation was cut short and not finished)`,
      };
    }
    const leo = (b: BrokerId) => tables.replicaStates.get(`${TOPIC}#${p}#${b}`)?.logEndOffset ?? 0;
    const alive = (b: BrokerId) => leaseLive(world, b);
    const eligible = (params.unclean ? m.replicas : m.isr).filter(alive);
    const log = m.leader
      ? world.memLog
          .replicaRecords(TOPIC, p, m.leader)
          .filter((r) => r.offset < m.highWatermark)
          .map((r) => ({ offset: r.offset, value: r.value }))
      : [];
    return {
      partition: `${TOPIC}-${p}`,
      state: m.state,
      leader: m.leader,
      highWatermark: m.highWatermark,
      leaderLogEnd: m.leader ? leo(m.leader) : 0,
      log,
      liveEligibleReplica: eligible[0] ?? null,
    };
  });
}

/**
 * The end of the cluster's history: the final reads, and every open liveness episode closed.
 * What the cluster does after it (while the group drains the topic) is not recorded.
 */
export function closeHistory(world: World): void {
  const { history } = world;
  world.historyClosed = true;
  history.final = finalState(world);
  history.endStep = world.scheduler.steps;
  // The end closes every open episode.
  for (const sample of world.liveness.lastSample.values()) history.liveness.push({ ...sample, at: world.now(), step: world.scheduler.steps });
  history.livenessBoundMs = world.livenessBoundMs;
}

/** After every step: the high watermarks that moved (world.commits), and the stored objects' check. */
export function afterStep(world: World): void {
  sampleLiveness(world);
  for (const p of world.partitions) {
    const m = world.tables.partitions.get(`${TOPIC}#${p}`);
    if (!m) continue;
    const seen = world.commits.get(p) ?? [];
    const last = seen[seen.length - 1];
    if (!last || last.hw !== m.highWatermark || last.leaderEpoch !== m.leaderEpoch || last.isr.join() !== m.isr.join()) {
      seen.push({ hw: m.highWatermark, leaderEpoch: m.leaderEpoch, isr: [...m.isr], step: world.scheduler.steps });
      world.commits.set(p, seen);
    }
  }
  checkStoredObjects(world);
}

/**
 * After every step of a diskless run: each committed record of every replica's live log
 * points into an object the store still holds (each record reported once). Deletions are
 * the only way an object goes, so nothing can go wrong before the first.
 */
export function checkStoredObjects(world: World): void {
  const { objects, tables, history } = world;
  if (!world.diskless || objects.deletedKeys.length === 0) return;
  for (const p of world.partitions) {
    const replicas = tables.partitions.get(`${TOPIC}#${p}`)?.replicas ?? [];
    for (const replica of replicas) {
      for (const record of tables.committedLog(TOPIC, p, replica).values()) {
        if (!record.stored || objects.has(record.stored.object)) continue;
        const partition = `${TOPIC}-${p}`;
        if (history.missingObjects.some((m) => m.partition === partition && m.replica === replica && m.offset === record.offset)) continue;
        history.missingObjects.push({ partition, replica, offset: record.offset, object: record.stored.object, step: world.scheduler.steps });
      }
    }
  }
}

/** The run's objects: written, orphans (deleted, or left with no committed record pointing into them at the end), deleted. */
export function objectCounts(world: World): { written: number; orphans: number; deleted: number } {
  const { objects, tables } = world;
  const referenced = new Set<string>();
  for (const p of world.partitions) {
    for (const replica of tables.partitions.get(`${TOPIC}#${p}`)?.replicas ?? []) {
      for (const record of tables.committedLog(TOPIC, p, replica).values()) if (record.stored) referenced.add(record.stored.object);
    }
  }
  const leftOver = objects.keys().filter((key) => !referenced.has(key)).length;
  return { written: objects.writtenCount, orphans: objects.deletedKeys.length + leftOver, deleted: objects.deletedKeys.length };
}
