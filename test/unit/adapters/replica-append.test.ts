/**
 * The two writes of an append (adapters/replica-append.ts) when a writer dies between them,
 * on the memory store, which runs them as the DynamoDB adapter does (the simulation's crashes
 * land here too; the DynamoDB adapter's own run of it is in dynamodb-adapters.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryDeps, type MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { StaleEpochError } from '../../../functions/domain/errors.js';
import { currentGeneration } from '../../../functions/domain/generations.js';
import { IN_DOUBT_BATCH_AGE_MS } from '../../../functions/domain/limits.js';
import type { LeaderAppend } from '../../../functions/ports/index.js';
import { aTopicFixture } from '../../factories/entities.js';

/** A writer that dies at its commit: the batch is written, the commit never is. */
class DiesAtCommit extends Error {}

async function cluster() {
  let dieAtCommit = false;
  const deps: MemoryDeps = createMemoryDeps({
    yieldPoint: (operation) => {
      if (operation !== 'log.commit' || !dieAtCommit) return Promise.resolve();
      dieAtCommit = false;
      return Promise.reject(new DiesAtCommit(operation));
    },
  });
  const fixture = aTopicFixture('orders', 1, ['L', 'F'], { at: deps.clock.now() });
  await deps.metadata.createTopic(fixture.config, fixture.partitions, fixture.replicas);
  const stateOf = async (broker: string) => (await deps.metadata.getReplicaStates('orders', 1)).find((s) => s.brokerId === broker)!;
  const append = (startOffset: number, values: string[], generation = 0): LeaderAppend => ({
    topic: 'orders',
    partition: 1,
    leader: 'L',
    leaderEpoch: 0,
    startOffset,
    generation,
    records: values.map((value) => ({ key: null, value })),
    appendedAt: deps.clock.now(),
  });
  return { deps, stateOf, append, dieNextCommit: () => (dieAtCommit = true) };
}

describe('an append whose writer dies between its batch and its commit', () => {
  it('leaves a batch no read returns, which the next writer loses to while it is young', async () => {
    const { deps, stateOf, append, dieNextCommit } = await cluster();
    dieNextCommit();
    await expect(deps.log.appendAsLeader(append(0, ['dead']))).rejects.toThrow(DiesAtCommit);
    expect(await stateOf('L')).toMatchObject({ logEndOffset: 0 });
    expect(await deps.log.read('orders', 1, 'L', 0, 10)).toEqual([]);

    deps.clock.advance(IN_DOUBT_BATCH_AGE_MS - 1);
    await expect(deps.log.appendAsLeader(append(0, ['live']))).rejects.toThrow(/another writer just wrote a batch there/);
    expect(await deps.log.read('orders', 1, 'L', 0, 10)).toEqual([]);
  });

  it('is abandoned once older than IN_DOUBT_BATCH_AGE_MS: the next writer starts a new generation there, and the dead one can never commit', async () => {
    const { deps, stateOf, append, dieNextCommit } = await cluster();
    const first = await deps.log.appendAsLeader(append(0, ['a', 'b']));
    dieNextCommit();
    await expect(deps.log.appendAsLeader(append(2, ['dead1', 'dead2', 'dead3']))).rejects.toThrow(DiesAtCommit);

    deps.clock.advance(IN_DOUBT_BATCH_AGE_MS);
    const second = await deps.log.appendAsLeader(append(2, ['c']));
    expect((await deps.log.read('orders', 1, 'L', 0, 10)).map((r) => r.value)).toEqual(['a', 'b', 'c']);
    expect(await stateOf('L')).toMatchObject({
      logEndOffset: 3,
      generation: 1,
      generations: [
        { from: 0, generation: 0 },
        { from: 2, generation: 1 },
      ],
    });
    // The log goes on in the new generation, past where the abandoned batch ended, and reads stitch both together.
    const state = await stateOf('L');
    const third = await deps.log.appendAsLeader(append(3, ['d', 'e', 'f'], currentGeneration(state)));
    expect(await deps.log.read('orders', 1, 'L', 0, 10)).toEqual([...first, ...second, ...third]);
    // The dead writer's batch is still stored, in generation 0, where no read goes past offset 2.
    expect([...deps.tables.generationItems('orders', 1, 'L', 0).keys()]).toEqual([0, 2]);
    // A writer still holding the old generation (the dead one's late commit would be the same) is refused.
    await expect(deps.log.appendAsLeader(append(6, ['late']))).rejects.toThrow(StaleEpochError);
    expect(await stateOf('L')).toMatchObject({ logEndOffset: 6 });
  });

  it('a follower copy dying before its commit is abandoned the same way, and the copy goes on', async () => {
    const { deps, stateOf, append, dieNextCommit } = await cluster();
    const records = await deps.log.appendAsLeader(append(0, ['a', 'b']));
    dieNextCommit();
    await expect(
      deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower: 'F', leaderEpoch: 0, records, generation: 0 }),
    ).rejects.toThrow(DiesAtCommit);
    expect(await deps.log.read('orders', 1, 'F', 0, 10)).toEqual([]);
    deps.clock.advance(IN_DOUBT_BATCH_AGE_MS);
    await deps.log.appendAsFollower({ topic: 'orders', partition: 1, follower: 'F', leaderEpoch: 0, records, generation: 0 });
    expect(await stateOf('F')).toMatchObject({ logEndOffset: 2, generation: 1 });
    expect((await deps.log.read('orders', 1, 'F', 0, 10)).map((r) => r.value)).toEqual(['a', 'b']);
  });
});
