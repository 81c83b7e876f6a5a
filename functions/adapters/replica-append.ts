/**
 * The steps of one append or copy to one replica's log, shared by both stores so that the
 * simulation (memory store) judges the order the DynamoDB adapter runs: the batch item is
 * written once, at the log end of the replica's current generation, then committed by a
 * conditional write of the replica's state. No transaction carries the batch (DynamoDB
 * bills every transaction item twice, and the batch is most of the bytes).
 *
 * Why this is safe without the batch in the commit (domain/generations.ts):
 * - A batch is only ever written where no item is (a put conditional on its key being
 *   free), so a committed batch is never replaced; and only at an offset that was the log
 *   end when its writer read it, which, if the log moved on since, a committed batch holds.
 * - The commit moves the log end only from the offset and generation the batch was
 *   written at, so no two batches commit at one offset.
 * - A batch whose writer died before the commit is never read (reads stop at the log end).
 *   The next writer finds it in its way; once it is older than IN_DOUBT_BATCH_AGE_MS (a
 *   live writer commits within milliseconds) that writer starts a new generation at the
 *   same offset, conditional on the log end and generation still being those, which also
 *   makes the dead writer's commit fail whenever it comes; then it writes there.
 * - A match starts a new generation at the cut, so a deposed writer's late batch lands in
 *   a generation no read goes past the cut in.
 */
import { StaleEpochError } from '../domain/errors.js';
import { IN_DOUBT_BATCH_AGE_MS } from '../domain/limits.js';

export interface ReplicaAppendSteps {
  /** Writes the batch at the offset in `generation` if no item is there; otherwise returns when the one there was written. */
  put(generation: number): Promise<{ writtenAt: number } | null>;
  /** Starts the next generation at the offset, only if the replica's log end and generation are still as read. Returns whether it did. */
  abandon(): Promise<boolean>;
  /** The conditional commit of the batch written in `generation`; throws StaleEpochError when a condition fails. */
  commit(generation: number): Promise<void>;
}

export interface ReplicaAppendTarget {
  /** For messages: `topic-partition on broker`. */
  where: string;
  offset: number;
  generation: number;
}

/** Writes then commits one batch (see above). Returns the generation it was committed in. */
export async function writeThenCommit(target: ReplicaAppendTarget, steps: ReplicaAppendSteps, now: () => number): Promise<number> {
  let generation = target.generation;
  const found = await steps.put(generation);
  if (found !== null) {
    const lost = (why: string) => new StaleEpochError(`Write to ${target.where} at offset ${target.offset} lost: ${why}.`);
    if (now() - found.writtenAt < IN_DOUBT_BATCH_AGE_MS) throw lost('another writer just wrote a batch there');
    if (!(await steps.abandon())) throw lost('the log end moved');
    generation += 1;
    if ((await steps.put(generation)) !== null) throw lost('another writer took the offset in the new generation');
  }
  await steps.commit(generation);
  return generation;
}
