/** How a run reads in its trace: the state after each step, batches as labels, and the tail kept for a report. */
import type { BrokerId } from '../../functions/domain/model.js';
import type { Violation } from './history.js';
import { TOPIC, TRACE_TAIL } from './params.js';
import type { World } from './world.js';

/** The key state appended to each trace line: every partition's leader, epoch, ISR, HW and log ends, then every broker's lease. */
export function describeState(world: World): string {
  const { tables, brokers, partitions } = world;
  const parts = partitions.map((p) => {
    const m = tables.partitions.get(`${TOPIC}#${p}`);
    if (!m) return `p${p}:-`;
    const leo = (b: BrokerId) => tables.replicaStates.get(`${TOPIC}#${p}#${b}`)?.logEndOffset ?? 0;
    return `p${p}:${m.leader ?? '∅'}@${m.leaderEpoch}[${m.isr.join('')}]hw${m.highWatermark}/${m.replicas.map(leo).join(',')}`;
  });
  const alive = brokers.map((b) => {
    const hb = tables.heartbeats.get(b.id);
    const lease = hb ? (hb.deadlineMs >= world.now() ? '+' : '~') : '-';
    return `${b.id}${lease}${b.running ? '' : '!'}`;
  });
  return `${parts.join(' ')} ${alive.join('')}`;
}

const ROUTINE = / (hb:\w+ (start|brokers\.(get|renew|list)|metadata\.getBrokerCredential)|sweep (start|brokers\.list)|[^ ]+ wake) \|/;
/** A batch in the trace: its values, or its first and last and how many when it is long. */
export const labelOf = (values: readonly string[]): string =>
  values.length <= 3 ? values.join(',') : `${values[0]}..${values[values.length - 1]}(${values.length})`;
const stepOf = (line: string): number => Number(/^#(\d+)/.exec(line)?.[1] ?? 0);

/** The last TRACE_TAIL lines up to the first violation, without routine lease renewals (they would fill the tail). */
export function traceBefore(trace: readonly string[], violations: readonly Violation[]): string[] {
  const until = violations.length > 0 ? Math.min(...violations.map((v) => v.step)) : Infinity;
  return trace.filter((line) => stepOf(line) <= until && !ROUTINE.test(line)).slice(-TRACE_TAIL);
}
