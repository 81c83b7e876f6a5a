/**
 * How `consumer-groups` prints, as kafka-consumer-groups.sh does: space-padded columns under
 * a header row, "-" for what is unknown or absent. Pure, so it is unit tested as it is.
 */
import type { ListedGroup } from '../../protocol/messages.js';
import { formatAssignment, type ConsumerGroupView } from '../consumer-group-view.js';
import type { PlannedOffsetReset } from '../consumer-groups.js';

type Cell = string | number | null | undefined;

/** Columns padded to their widest cell, two spaces apart; an empty or missing cell prints "-" so every row splits on whitespace. */
export function table(header: string[], rows: Cell[][]): string[] {
  const text = [header, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined || cell === '' ? '-' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...text.map((row) => row[column].length)));
  return text.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  '));
}

export function formatGroupList(groups: readonly ListedGroup[], showState: boolean): string[] {
  if (!showState) return groups.map((group) => group.groupId);
  return table(['GROUP', 'STATE'], groups.map((group) => [group.groupId, group.state]));
}

export function formatGroupOffsets(view: ConsumerGroupView): string[] {
  return table(
    ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'CLIENT-ID'],
    view.partitions.map((row) => [view.groupId, row.topic, row.partition, row.currentOffset, row.logEndOffset, row.lag, row.memberId, row.clientId]),
  );
}

export function formatGroupMembers(view: ConsumerGroupView): string[] {
  return table(
    ['GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
    view.members.map((member) => [
      view.groupId,
      member.memberId,
      member.groupInstanceId,
      member.clientId,
      member.partitions.reduce((sum, entry) => sum + entry.partitions.length, 0),
      member.assignmentError ? '(unreadable)' : formatAssignment(member.partitions),
    ]),
  );
}

export function formatGroupState(view: ConsumerGroupView): string[] {
  return table(
    ['GROUP', 'COORDINATOR', 'COORDINATOR-EPOCH', 'PROTOCOL-TYPE', 'ASSIGNMENT-STRATEGY', 'STATE', 'GENERATION', 'LEADER', '#MEMBERS'],
    [[view.groupId, view.coordinator, view.coordinator === null ? null : view.coordinatorEpoch, view.protocolType, view.protocolName, view.state, view.generationId, view.leader, view.members.length]],
  );
}

export function formatResetPlan(groupId: string, partitions: readonly PlannedOffsetReset[]): string[] {
  return table(
    ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
    partitions.map((row) => [groupId, row.topic, row.partition, row.currentOffset, row.newOffset]),
  );
}

/** What kafka-consumer-groups says beside a description: a group that is empty, rebalancing, or whose assignments it cannot read. */
export function groupNotes(view: ConsumerGroupView): string[] {
  const notes: string[] = [];
  if (view.state === 'Empty') notes.push(`Consumer group "${view.groupId}" has no active members.`);
  if (view.state === 'PreparingRebalance' || view.state === 'CompletingRebalance') notes.push(`Consumer group "${view.groupId}" is rebalancing (${view.state}).`);
  for (const member of view.members) {
    if (member.assignmentError) notes.push(`The assignment of member ${member.memberId} is not the consumer protocol's (${member.assignmentError}): its partitions are not shown.`);
  }
  return notes;
}
