/**
 * The rate records are committed to each topic, as the console sees it: how far the sum of
 * its partitions' high watermarks moved over the last `windowMs` of describes. It counts what
 * producers got committed (acks=all and acks=1 alike, once replicated), not refused sends.
 */
import type { TopicRow } from './snapshot.js';

interface Sample {
  at: number;
  committed: number;
}

export class CommitRateObserver {
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly windowMs = 10_000) {}

  observe(at: number, topics: ReadonlyArray<Pick<TopicRow, 'topic' | 'partitions'>>): void {
    const present = new Set<string>();
    for (const topic of topics) {
      present.add(topic.topic);
      const committed = topic.partitions.reduce((sum, partition) => sum + partition.HighWatermark, 0);
      const series = this.samples.get(topic.topic) ?? [];
      // A lower sum is another log (the topic recreated, the cloud restarted empty, an unclean election): start over.
      if (series.length > 0 && committed < series[series.length - 1].committed) series.length = 0;
      series.push({ at, committed });
      while (series.length > 2 && series[1].at <= at - this.windowMs) series.shift();
      this.samples.set(topic.topic, series);
    }
    for (const topic of [...this.samples.keys()]) if (!present.has(topic)) this.samples.delete(topic);
  }

  /** Records per second over the window, or undefined until two samples a second apart exist. */
  recordsPerSecond(topic: string): number | undefined {
    const series = this.samples.get(topic);
    if (!series || series.length < 2) return undefined;
    const first = series[0];
    const last = series[series.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds >= 1 ? (last.committed - first.committed) / seconds : undefined;
  }
}
