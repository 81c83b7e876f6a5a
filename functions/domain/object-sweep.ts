/**
 * The diskless orphan sweep. A produce writes its object before it appends the batches
 * it holds; a writer that dies (or stalls) in between leaves an object no committed batch
 * points into. The sweep deletes such an object only once no batch of it can ever commit
 * and no replica holds one committed (the argument is in README.md, "Diskless storage").
 */
import type { SweepObjectsResponse } from '../../protocol/messages.js';
import { settleBounded, valuesOrFirstFailure } from '../concurrency.js';
import type { Deps, ObjectManifestEntry } from '../ports/index.js';
import { currentGeneration } from './generations.js';
import { replicaStateOf } from './high-watermark.js';
import type { BrokerId } from './model.js';

/** Fences lost to concurrent writers in a row before the object is left for a later run. */
const MAX_FENCE_ATTEMPTS = 5;
/** Objects judged at once: each is a few reads (and an object read each); few are orphans, whose fences write. */
const OBJECTS_IN_FLIGHT = 8;

type Verdict = 'keep' | 'delete' | 'defer' | 'gone';

/**
 * Judges every object written in [now - age - window, now - age), window = two schedule
 * intervals, so each object is looked at in about two runs (a deferred one gets its second
 * chance). An object a failed run skipped is never deleted: it costs its storage, nothing else.
 */
export async function sweepObjects(deps: Deps): Promise<SweepObjectsResponse> {
  const { disklessOrphanAgeMs, disklessSweepIntervalSeconds } = deps.settings;
  const to = deps.clock.now() - disklessOrphanAgeMs;
  const from = to - 2 * disklessSweepIntervalSeconds * 1_000;
  const objects = await deps.objects.listWritten(from, to);
  // Each object is judged on its own; a failure leaves it (and the run's answer) to a later run once the others settled.
  const verdicts = valuesOrFirstFailure(
    await settleBounded(objects, OBJECTS_IN_FLIGHT, async ({ key }) => {
      const verdict = await judge(deps, key);
      if (verdict === 'delete') await deps.objects.delete(key);
      return verdict;
    }),
  );
  return {
    examined: objects.length,
    deleted: objects.filter((_, i) => verdicts[i] === 'delete').map(({ key }) => key),
    deferred: verdicts.filter((verdict) => verdict === 'defer').length,
  };
}

async function judge(deps: Deps, key: string): Promise<Verdict> {
  const entries = await deps.objects.manifest(key);
  if (entries === null) return 'gone';
  const replicasOf = new Map<string, BrokerId[]>();
  for (const entry of entries) {
    const partition = await deps.metadata.getPartition(entry.topic, entry.partition);
    // Partitions are never deleted; one that cannot be read now is judged by a later run.
    if (!partition) return 'defer';
    replicasOf.set(partitionKey(entry), [entry.replica, ...partition.replicas.filter((replica) => replica !== entry.replica)]);
  }
  // Quick keep: the usual live object is committed at its origin, found with one read.
  for (const entry of entries) {
    if (await anyReplicaHolds(deps, entry, replicasOf.get(partitionKey(entry))!, key)) return 'keep';
  }
  for (const entry of entries) {
    const before = await deps.metadata.getPartition(entry.topic, entry.partition);
    if (!before) return 'defer';
    if (!(await fenceOrigin(deps, entry))) return 'defer';
    if (await anyReplicaHolds(deps, entry, replicasOf.get(partitionKey(entry))!, key)) return 'keep';
    const after = await deps.metadata.getPartition(entry.topic, entry.partition);
    // A replica may have copied the batch from a leader that lost it since: look again under one stable epoch.
    if (!after || after.leaderEpoch !== before.leaderEpoch) return 'defer';
  }
  return 'delete';
}

/**
 * Makes sure the batch the entry names can never commit at its origin: if the origin's
 * log end is still the entry's offset, a new generation is started there (whatever batch
 * was put at that log end before is then never committed). Returns false when writers
 * kept winning the race (the caller defers the object).
 */
async function fenceOrigin(deps: Deps, entry: ObjectManifestEntry): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_FENCE_ATTEMPTS; attempt++) {
    const states = await deps.metadata.getReplicaStates(entry.topic, entry.partition);
    const origin = replicaStateOf(states, entry.replica);
    // Past the offset, the offset is committed (by this batch or another); below it, the generation moved on since the batch was put.
    if (!origin || origin.logEndOffset !== entry.offset) return true;
    if (await deps.log.fenceLogEnd(entry.topic, entry.partition, entry.replica, entry.offset, currentGeneration(origin))) return true;
  }
  return false;
}

/** Whether some replica's committed, live log holds, at the entry's offset, a record stored in this object. */
async function anyReplicaHolds(deps: Deps, entry: ObjectManifestEntry, replicas: readonly BrokerId[], key: string): Promise<boolean> {
  for (const replica of replicas) {
    const [record] = await deps.log.read(entry.topic, entry.partition, replica, entry.offset, entry.offset + 1);
    if (record?.offset === entry.offset && record.stored?.object === key) return true;
  }
  return false;
}

const partitionKey = (entry: ObjectManifestEntry): string => `${entry.topic}#${entry.partition}`;
