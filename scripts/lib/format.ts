import type { PartitionView } from '../../client/lambda-client.js';

/** The `kafka-topics --describe` layout, one line per partition. */
export function formatPartitions(partitions: PartitionView[]): string {
  return partitions
    .map(
      (view) =>
        `  Topic: ${view.Topic}\tPartition: ${view.Partition}\tLeader: ${view.Leader ?? 'none'}\t` +
        `Replicas: ${view.Replicas.join(',')}\tIsr: ${view.Isr.join(',')}\tLeaderEpoch: ${view.LeaderEpoch}\t` +
        `HighWatermark: ${view.HighWatermark}\t${view.State}`,
    )
    .join('\n');
}

/** A fixed-width two-column table. */
export function formatTable(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
