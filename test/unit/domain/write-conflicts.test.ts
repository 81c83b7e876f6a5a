/**
 * A store write refused by a concurrent transaction (TransactionConflict past the store's
 * retries: WriteConflictError) did not happen, and means only that: an acks=all produce
 * whose records reached every in-sync follower is not failed because its own HW advance
 * was refused; it waits for the commit as it does when another writer won the race.
 */
import { describe, expect, it } from 'vitest';
import { conflictRefusal } from '../../../functions/adapters/memory/conflicts.js';
import { yieldToOtherCallers } from '../../../functions/adapters/memory/tables.js';
import { MAX_CONDITIONAL_ATTEMPTS } from '../../../functions/domain/limits.js';
import { ClusterHarness } from '../../factories/cluster.js';

/** A harness whose store refuses the first `times` HW advances with a write conflict. */
function clusterRefusingHighWatermarkAdvances(times: number) {
  let refused = 0;
  let armed = false;
  const cluster = new ClusterHarness({
    yieldPoint: async (operation) => {
      await yieldToOtherCallers();
      if (armed && operation === 'metadata.advanceHighWatermark' && refused < times) {
        refused += 1;
        throw conflictRefusal(operation);
      }
    },
  });
  return { cluster, arm: () => void (armed = true), refused: () => refused };
}

describe('write conflicts', () => {
  it('an acks=all produce whose HW advance was refused by a conflict is acknowledged once the commit is recorded', async () => {
    const { cluster, arm, refused } = clusterRefusingHighWatermarkAdvances(2);
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 1, 3, { minInsyncReplicas: 2 });
    arm();

    const acked = await cluster.produceValues('orders', 1, ['a', 'b'], { acks: 'all' });

    expect(refused()).toBe(2);
    expect(acked).toMatchObject({ baseOffset: 0 });
    expect((await cluster.partition('orders', 1)).highWatermark).toBe(2);
    // Written once: the produce did not fail, so no client retried it.
    expect(cluster.valuesOn('orders', 1, 'A')).toEqual(['a', 'b']);
  });

  it('an acks=all produce whose follower copy was refused copies again itself while it waits, with no help from the log stream', async () => {
    let refused = 0;
    let armed = false;
    const cluster = new ClusterHarness({
      // Nothing replicates from the log stream meanwhile: the produce call must drive its commit alone.
      whileWaiting: async () => {},
      yieldPoint: async (operation) => {
        await yieldToOtherCallers();
        // As many refusals as one copy tries: the produce call's first copy falls short.
        if (armed && operation === 'log.appendAsFollower' && refused < MAX_CONDITIONAL_ATTEMPTS) {
          refused += 1;
          throw conflictRefusal(operation);
        }
      },
    });
    await cluster.start('A', 'B');
    await cluster.createTopic('orders', 1, 2, { minInsyncReplicas: 2 });
    arm();

    const acked = await cluster.produceValues('orders', 1, ['a', 'b'], { acks: 'all' });

    expect(refused).toBe(MAX_CONDITIONAL_ATTEMPTS);
    expect(acked).toMatchObject({ baseOffset: 0, highWatermark: 2 });
    expect(cluster.valuesOn('orders', 1, 'B')).toEqual(['a', 'b']);
    // The leader's batch is marked as its writer's to copy: the log stream leaves it alone.
    expect(cluster.deps.log.drainLeaderAppends().every((record) => record.writerCopies === true)).toBe(true);

    function arm(): void {
      armed = true;
    }
  });
});
