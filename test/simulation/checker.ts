/**
 * Jepsen's Kafka categories over a recorded history. Pure: a history in,
 * violations out (each kind reported once per partition and offset/epoch).
 */
import type { GroupCommit, History, LivenessSample, ProducerBatch, Violation } from './history.js';

export function check(history: History): Violation[] {
  return [
    ...lostAcknowledgements(history),
    ...changedValues(history),
    ...nonMonotonicConsumption(history),
    ...staleEpochWrites(history),
    ...twoLeadersInOneEpoch(history),
    ...ackedBelowMinInsync(history),
    ...notLiveAfterHeal(history),
    ...notLive(history),
    ...(history.idempotentProducers ? duplicatesAndReorders(history) : []),
    ...tornBatches(history),
    ...storedObjectsMissing(history),
    ...(history.group
      ? [...partitionsOwnedTwice(history), ...lostCommits(history), ...commitsBackwards(history), ...zombieCommits(history), ...skippedRecords(history)]
      : []),
  ];
}

/** (27) Two owners (member ids, or a static member's instance id) of one partition in one generation, from the SyncGroup answers they received. */
function partitionsOwnedTwice(history: History): Violation[] {
  const owners = new Map<string, { owner: string; member: string; step: number }>();
  const violations: Violation[] = [];
  for (const answer of history.groupAssignments) {
    for (const partition of answer.partitions) {
      const key = `${answer.incarnation}/${answer.generation}/${partition}`;
      const earlier = owners.get(key);
      if (!earlier) owners.set(key, { owner: answer.owner, member: answer.member, step: answer.step });
      else if (earlier.owner !== answer.owner) {
        violations.push({
          kind: 'partition owned twice',
          partition,
          detail: `generation ${answer.generation}: ${earlier.member} (${earlier.owner}, step ${earlier.step}) and ${answer.member} (${answer.owner}, step ${answer.step}) were both given ${partition}`,
          step: answer.step,
        });
      }
    }
  }
  return violations;
}

/**
 * (29) An OffsetFetch (or the committed offset after the drain) below the last commit
 * acknowledged before it was sent, unless a commit that may have landed after that one (sent
 * before the fetch was answered, answered after that one was sent, and not refused) set it so.
 */
function lostCommits(history: History): Violation[] {
  const violations: Violation[] = [];
  const seen = [
    ...history.groupFetches.map((f) => ({ ...f, who: `${f.member}'s OffsetFetch` })),
    ...history.groupFinal.map((f) => ({ ...f, sentStep: f.step, who: 'the store after the drain' })),
  ];
  for (const fetch of seen) {
    const commits = history.groupCommits.filter((c) => c.partition === fetch.partition);
    let last: GroupCommit | undefined;
    for (const c of commits) if (c.outcome === 'acked' && c.step < fetch.sentStep && (!last || c.step > last.step)) last = c;
    if (!last || fetch.offset >= last.offset) continue;
    const since = last;
    const explained = commits.some((c) => c.outcome !== 'refused' && c.offset === fetch.offset && c.sentStep < fetch.step && c.step > since.sentStep);
    if (explained) continue;
    violations.push({
      kind: 'acknowledged commit lost',
      partition: fetch.partition,
      detail:
        `${fetch.who} (step ${fetch.step}) shows ${fetch.offset}, below ${since.offset} that ${since.member} committed in generation ${since.generation} ` +
        `(acknowledged at step ${since.step}), and no later commit set it there`,
      step: fetch.step,
    });
  }
  return violations;
}

/** (28) A written commit that lowers the partition's committed offset while the group stays in one generation. */
function commitsBackwards(history: History): Violation[] {
  const violations: Violation[] = [];
  const last = new Map<string, (typeof history.groupWrites)[number]>();
  for (const write of history.groupWrites) {
    const previous = last.get(write.partition);
    last.set(write.partition, write);
    const sameGeneration = previous?.tableIncarnation === write.tableIncarnation && previous.tableGeneration === write.tableGeneration;
    if (!previous || !sameGeneration || write.offset >= previous.offset) continue;
    violations.push({
      kind: 'commit went backwards',
      partition: write.partition,
      detail:
        `generation ${write.tableGeneration}: ${write.memberId}'s commit of ${write.offset} (generation ${write.generation}, step ${write.step}) ` +
        `was written after ${previous.memberId}'s of ${previous.offset} (step ${previous.step})`,
      step: write.step,
    });
  }
  return violations;
}

/** (28) A commit written for a generation the group was not at, or for a member it did not hold. */
function zombieCommits(history: History): Violation[] {
  return history.groupWrites
    .filter((write) => write.generation !== write.tableGeneration || !write.tableHasMember)
    .map((write) => ({
      kind: 'zombie commit accepted' as const,
      partition: write.partition,
      detail:
        `${write.memberId}'s commit of ${write.offset} for generation ${write.generation} was written while the group was at generation ` +
        `${write.tableGeneration}${write.tableHasMember ? '' : ' without that member'} (step ${write.step})`,
      step: write.step,
    }));
}

/**
 * (31) A commit-after-process group that drained the topic after the heal: every record below
 * each partition's final high watermark was processed by a member at least once, and every
 * acknowledged record with its value.
 */
function skippedRecords(history: History): Violation[] {
  const violations: Violation[] = [];
  const processed = new Map<string, Set<string>>();
  for (const p of history.groupProcessed) {
    const key = `${p.partition}@${p.offset}`;
    processed.set(key, (processed.get(key) ?? new Set()).add(p.value));
  }
  const drain = new Map(history.groupDrain.map((d) => [d.partition, d]));
  for (const final of history.final) {
    const reached = drain.get(final.partition);
    const where = reached ? ` (the drain left its committed offset at ${reached.committed} of ${reached.highWatermark})` : '';
    const gap = final.log.find((record) => !processed.has(`${final.partition}@${record.offset}`));
    if (gap) {
      violations.push({
        kind: 'record skipped by group',
        partition: final.partition,
        detail: `${final.partition}@${gap.offset} (${gap.value}) was never processed by the group${where}`,
        step: history.endStep,
      });
      continue;
    }
    const byOffset = new Map(final.log.map((r) => [r.offset, r.value]));
    for (const ack of history.acks) {
      if (ack.partition !== final.partition || !history.lossCheckedAcks.includes(ack.acks)) continue;
      const missed = ack.values.findIndex((value, i) => byOffset.get(ack.baseOffset + i) === value && !processed.get(`${final.partition}@${ack.baseOffset + i}`)?.has(value));
      if (missed < 0) continue;
      violations.push({
        kind: 'record skipped by group',
        partition: final.partition,
        detail: `acknowledged ${ack.values[missed]} at ${final.partition}@${ack.baseOffset + missed} was processed only with another value${where}`,
        step: history.endStep,
      });
      break;
    }
  }
  return violations;
}

/**
 * (diskless) A committed record in some replica's live log pointing into an object that is
 * gone: every consumer, and every follower copying it, is stuck at that offset, which is as
 * bad as losing it. Only the sweep deletes objects, so it deleted one it must have kept.
 */
function storedObjectsMissing(history: History): Violation[] {
  return history.missingObjects.map((missing) => ({
    kind: 'stored object missing' as const,
    partition: missing.partition,
    detail:
      `${missing.replica}'s committed record ${missing.partition}@${missing.offset} points into object ${missing.object}, ` +
      `which was deleted (seen at step ${missing.step}): a read of it fails with StoredObjectMissingError`,
    step: missing.step,
  }));
}

/**
 * (10) A sent batch that a final log holds only in part, or not contiguous and in order:
 * replicas copy, truncate and commit a leader's batch as one unit (a follower leading with
 * part of one made an idempotent retry fail and the rest be written twice). A batch written
 * twice (a retry without idempotence) must be whole each time.
 */
function tornBatches(history: History): Violation[] {
  const placeOf = new Map<string, { batch: ProducerBatch; index: number }>();
  for (const batch of history.sent) batch.values.forEach((value, index) => placeOf.set(value, { batch, index }));
  const violations: Violation[] = [];
  for (const final of history.final) {
    const reported = new Set<ProducerBatch>();
    const torn = (batch: ProducerBatch, detail: string) => {
      if (reported.has(batch)) return;
      reported.add(batch);
      violations.push({
        kind: 'torn batch',
        partition: final.partition,
        detail: `${batch.producer}'s batch [${batch.values.join(',')}] (sent at step ${batch.step}): ${detail}`,
        step: history.endStep,
      });
    };
    final.log.forEach((record, i) => {
      const place = placeOf.get(record.value);
      if (!place) return;
      const { batch, index } = place;
      const before = final.log[i - 1];
      const after = final.log[i + 1];
      if (index > 0 && (before?.value !== batch.values[index - 1] || before.offset !== record.offset - 1)) {
        torn(batch, `${final.partition}@${record.offset} holds ${record.value} without ${batch.values[index - 1]} just before it`);
      }
      if (index < batch.values.length - 1 && (after?.value !== batch.values[index + 1] || after.offset !== record.offset + 1)) {
        torn(batch, `${final.partition}@${record.offset} holds ${record.value} without ${batch.values[index + 1]} just after it`);
      }
    });
  }
  return violations;
}

/** Producer values are `p<producer>-<n>`, n counting that producer's records in the order it sent them. */
const sendOrder = (value: string): { producer: string; n: number } | null => {
  const match = /^(p\d+)-(\d+)$/.exec(value);
  return match ? { producer: match[1], n: Number(match[2]) } : null;
};

/**
 * (8, 9) With idempotent producers: a record committed at two offsets (a retry written
 * twice), or one producer's records committed out of the order it sent them.
 */
function duplicatesAndReorders(history: History): Violation[] {
  const violations: Violation[] = [];
  for (const final of history.final) {
    const firstAt = new Map<string, number>();
    const lastOf = new Map<string, { n: number; offset: number }>();
    for (const record of final.log) {
      const earlier = firstAt.get(record.value);
      if (earlier !== undefined) {
        violations.push({
          kind: 'duplicate',
          partition: final.partition,
          detail: `${record.value} is committed at ${final.partition}@${earlier} and again @${record.offset}`,
          step: history.endStep,
        });
      } else firstAt.set(record.value, record.offset);
      const sent = sendOrder(record.value);
      if (!sent) continue;
      const previous = lastOf.get(sent.producer);
      if (previous && sent.n < previous.n) {
        violations.push({
          kind: 'reordered',
          partition: final.partition,
          detail: `${record.value} @${record.offset} follows ${sent.producer}-${previous.n} @${previous.offset}, sent after it`,
          step: history.endStep,
        });
      }
      if (!previous || sent.n > previous.n) lastOf.set(sent.producer, { n: sent.n, offset: record.offset });
    }
  }
  return violations;
}

/** (1) An acknowledged record that the final log, or a consumer, shows as something else or nothing. */
function lostAcknowledgements(history: History): Violation[] {
  const violations: Violation[] = [];
  const finals = new Map(history.final.map((p) => [p.partition, p]));
  const readValues = new Map<string, Array<{ value: string; consumer: string; step: number }>>();
  for (const read of history.reads) {
    for (const record of read.records) {
      const key = `${read.partition}@${record.offset}`;
      const seen = readValues.get(key) ?? [];
      seen.push({ value: record.value, consumer: read.consumer, step: read.step });
      readValues.set(key, seen);
    }
  }
  for (const ack of history.acks) {
    if (!history.lossCheckedAcks.includes(ack.acks)) continue;
    const final = finals.get(ack.partition);
    ack.values.forEach((value, i) => {
      const offset = ack.baseOffset + i;
      const where = `${value} acked (acks=${ack.acks}) at ${ack.partition}@${offset} by ${ack.leader} epoch ${ack.leaderEpoch} (step ${ack.step})`;
      const lost = (detail: string, step: number) =>
        violations.push({ kind: 'acknowledged record lost', partition: ack.partition, detail: `${where}: ${detail}`, step });
      if (final) {
        if (final.highWatermark <= offset) lost(`final high watermark is ${final.highWatermark}`, history.endStep);
        else {
          const stored = final.log.find((r) => r.offset === offset);
          if (!final.leader) lost(`the partition ended ${final.state} without a leader to read from`, history.endStep);
          else if (!stored) lost(`final read of leader ${final.leader} has nothing there`, history.endStep);
          else if (stored.value !== value) lost(`final read of leader ${final.leader} shows ${stored.value}`, history.endStep);
        }
      }
      const other = readValues.get(`${ack.partition}@${offset}`)?.find((read) => read.value !== value);
      if (other) lost(`${other.consumer} read ${other.value} there (step ${other.step})`, other.step);
    });
  }
  return violations;
}

/** (2) Two reads of one offset (consumer reads, and the final read below the HW) with different values. */
function changedValues(history: History): Violation[] {
  const violations: Violation[] = [];
  const first = new Map<string, { value: string; who: string; step: number }>();
  const reported = new Set<string>();
  const see = (partition: string, offset: number, value: string, who: string, step: number) => {
    const key = `${partition}@${offset}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, { value, who, step });
      return;
    }
    if (earlier.value === value || reported.has(key)) return;
    reported.add(key);
    violations.push({
      kind: 'value changed',
      partition,
      detail: `${key}: ${earlier.who} read ${earlier.value} (step ${earlier.step}), ${who} read ${value} (step ${step})`,
      step,
    });
  };
  for (const read of history.reads) for (const r of read.records) see(read.partition, r.offset, r.value, read.consumer, read.step);
  for (const final of history.final) for (const r of final.log) see(final.partition, r.offset, r.value, 'final read', history.endStep);
  return violations;
}

/** (3) A consumer session whose records are not contiguous from where it asked, or go backwards. */
function nonMonotonicConsumption(history: History): Violation[] {
  const violations: Violation[] = [];
  const last = new Map<string, number>();
  for (const read of history.reads) {
    const session = `${read.consumer}/${read.session}/${read.partition}`;
    const bad = (detail: string) =>
      violations.push({ kind: 'non-monotonic consumption', partition: read.partition, detail: `${read.consumer}: ${detail}`, step: read.step });
    const offsets = read.records.map((r) => r.offset);
    if (offsets.some((offset, i) => offset !== read.offset + i)) {
      bad(`asked from ${read.offset}, got offsets [${offsets.join(', ')}] (step ${read.step})`);
      continue;
    }
    const previous = last.get(session);
    if (offsets.length > 0 && previous !== undefined && offsets[0] <= previous) {
      bad(`read offset ${offsets[0]} after already reading ${previous} (step ${read.step})`);
    }
    if (offsets.length > 0) last.set(session, offsets[offsets.length - 1]);
  }
  return violations;
}

/** (4) A leader append that committed while the metadata table named another leader or epoch. */
function staleEpochWrites(history: History): Violation[] {
  const seen = new Set<string>();
  const violations: Violation[] = [];
  for (const append of history.appends) {
    if (append.tableLeader === append.replica && append.tableEpoch === append.leaderEpoch) continue;
    const key = `${append.partition}/${append.replica}/${append.leaderEpoch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    violations.push({
      kind: 'stale-epoch write accepted',
      partition: append.partition,
      detail:
        `${append.replica} appended offsets [${append.offsets.join(', ')}] at epoch ${append.leaderEpoch} ` +
        `while the table said leader ${append.tableLeader ?? 'none'} epoch ${append.tableEpoch} (step ${append.step})`,
      step: append.step,
    });
  }
  return violations;
}

/** (5) Two different replicas accepting leader appends in one epoch. */
function twoLeadersInOneEpoch(history: History): Violation[] {
  const leaders = new Map<string, { replica: string; step: number }>();
  const reported = new Set<string>();
  const violations: Violation[] = [];
  for (const append of history.appends) {
    const key = `${append.partition}#${append.leaderEpoch}`;
    const earlier = leaders.get(key);
    if (!earlier) leaders.set(key, { replica: append.replica, step: append.step });
    else if (earlier.replica !== append.replica && !reported.has(key)) {
      reported.add(key);
      violations.push({
        kind: 'two leaders in one epoch',
        partition: append.partition,
        detail: `epoch ${append.leaderEpoch}: ${earlier.replica} appended (step ${earlier.step}) and so did ${append.replica} (step ${append.step})`,
        step: append.step,
      });
    }
  }
  return violations;
}

/** (6) acks=all answered while the ISR was below min.insync.replicas. */
function ackedBelowMinInsync(history: History): Violation[] {
  return history.acks
    .filter((ack) => ack.acks === 'all' && ack.isrAtReturn.length < ack.minInsync)
    .map((ack) => ({
      kind: 'acked below min.insync' as const,
      partition: ack.partition,
      detail:
        `${ack.values.join(',')} acked at ${ack.partition}@${ack.baseOffset} with ISR [${ack.isrAtReturn.join(', ')}] ` +
        `< min.insync.replicas ${ack.minInsync} (step ${ack.step})`,
      step: ack.step,
    }));
}

/** (7) After the heal phase: absent (its topic never created), offline with a live eligible replica, or a high watermark behind the leader's log end. */
function notLiveAfterHeal(history: History): Violation[] {
  const violations: Violation[] = [];
  for (const final of history.final) {
    if (final.absent !== undefined) {
      violations.push({ kind: 'not live after heal', partition: final.partition, detail: `${final.partition}: ${final.absent}`, step: history.endStep });
    } else if (final.state !== 'ONLINE' && final.liveEligibleReplica !== null) {
      violations.push({
        kind: 'not live after heal',
        partition: final.partition,
        detail: `${final.partition} is ${final.state} although ${final.liveEligibleReplica} is alive and eligible`,
        step: history.endStep,
      });
    } else if (final.state === 'ONLINE' && final.highWatermark < final.leaderLogEnd) {
      violations.push({
        kind: 'not live after heal',
        partition: final.partition,
        detail: `${final.partition}: high watermark ${final.highWatermark} < leader ${final.leader}'s log end ${final.leaderLogEnd}`,
        step: history.endStep,
      });
    }
  }
  return violations;
}

/**
 * (10) During the run: a partition without a leader for longer than the bound while some
 * replica could have led it with every committed record (LivenessSample). Each episode is
 * reported once, at the first sample past the bound.
 */
function notLive(history: History): Violation[] {
  const violations: Violation[] = [];
  const byPartition = new Map<string, LivenessSample[]>();
  for (const sample of history.liveness) byPartition.set(sample.partition, [...(byPartition.get(sample.partition) ?? []), sample]);
  for (const [partition, samples] of byPartition) {
    let since: LivenessSample | null = null;
    let reported = false;
    for (const sample of samples) {
      if (since && !reported && sample.at - since.at > history.livenessBoundMs) {
        reported = true;
        violations.push({
          kind: 'not-live',
          partition,
          detail:
            `${partition} had no leader from step ${since.step} to step ${sample.step} (${sample.at - since.at} ms > ` +
            `${history.livenessBoundMs} ms) although ${since.holder} was running, eligible and held every committed record`,
          step: sample.step,
        });
      }
      const stuck = sample.leaderless && sample.holder !== null;
      if (!stuck) {
        since = null;
        reported = false;
      } else if (!since) since = sample;
    }
  }
  return violations;
}
