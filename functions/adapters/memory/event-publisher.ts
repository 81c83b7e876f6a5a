/**
 * EventPublisher behaving like the SQS FIFO queue: a message whose deduplication
 * id was seen within the last 5 minutes is accepted but not delivered again.
 */
import type { LeadershipEvent } from '../../domain/model.js';
import type { Clock, EventPublisher } from '../../ports/index.js';
import { copyOf, yieldToOtherCallers, type YieldPoint } from './tables.js';

const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

export const deduplicationId = (event: LeadershipEvent): string =>
  `${event.topic}-${event.partition}-${event.leaderEpoch}-${event.reason}-${event.version}`;

export class MemoryEventPublisher implements EventPublisher {
  /** What consumers of the queue receive, in order, duplicates removed. */
  readonly delivered: LeadershipEvent[] = [];
  /** Every event handed to publish, duplicates included. */
  readonly published: LeadershipEvent[] = [];
  private readonly seenAt = new Map<string, number>();
  private failuresToInject = 0;

  constructor(
    private readonly clock: Clock,
    private readonly yieldPoint: YieldPoint = yieldToOtherCallers,
  ) {}

  /** Makes the next `times` publish calls throw, as SQS does when it is unreachable. */
  failNextPublish(times = 1): void {
    this.failuresToInject = times;
  }

  async publish(events: LeadershipEvent[]): Promise<void> {
    await this.yieldPoint('events.publish');
    if (this.failuresToInject > 0) {
      this.failuresToInject -= 1;
      throw new Error('injected failure: the leadership-events queue is unreachable');
    }
    const now = this.clock.now();
    for (const event of events) {
      this.published.push(copyOf(event));
      const id = deduplicationId(event);
      const seen = this.seenAt.get(id);
      if (seen !== undefined && now - seen < DEDUPLICATION_WINDOW_MS) continue;
      this.seenAt.set(id, now);
      this.delivered.push(copyOf(event));
    }
  }
}
