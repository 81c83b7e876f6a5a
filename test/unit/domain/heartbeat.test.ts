import { describe, expect, it } from 'vitest';
import { createMemoryDeps } from '../../../functions/adapters/memory/index.js';
import { FencedBrokerError, ValidationError } from '../../../functions/domain/errors.js';
import { heartbeat, sweepExpiredBrokers } from '../../../functions/domain/index.js';
import { credentialFor, registerBrokers } from '../../factories/cluster.js';
import { T0 } from '../../factories/entities.js';

const SESSION_MS = 9_000;

/** Brokers A, B and C have credentials (credentialFor) and no lease yet. */
async function setup(options: Parameters<typeof createMemoryDeps>[0] = {}) {
  const deps = createMemoryDeps({ startAt: T0, settings: { sessionTimeoutMs: SESSION_MS }, ...options });
  await registerBrokers(deps, 'A', 'B', 'C');
  return deps;
}

describe('heartbeat', () => {
  it('registers a first incarnation from the clock, as a new lease', async () => {
    const deps = await setup();
    const result = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });

    expect(result).toEqual({
      brokerId: 'A',
      incarnation: T0,
      deadlineMs: T0 + SESSION_MS,
      expiresAt: Math.ceil((T0 + SESSION_MS) / 1000),
      rejoined: true,
      sweptBrokers: [],
    });
    expect(deps.brokers.drainStream().map((r) => r.eventName)).toEqual(['INSERT']);
  });

  it('renews a live lease that names its incarnation, moving the deadline and rounding the TTL up', async () => {
    const deps = await setup();
    const { incarnation } = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(2_500);

    const renewed = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation });

    expect(renewed).toMatchObject({ incarnation, rejoined: false, deadlineMs: T0 + 2_500 + SESSION_MS });
    expect(renewed.expiresAt).toBe(Math.ceil((T0 + 2_500 + SESSION_MS) / 1000));
    expect(deps.brokers.drainStream().map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY']);
  });

  it('re-registers a lapsed lease as the next incarnation: REMOVE then INSERT, never a MODIFY', async () => {
    const deps = await setup();
    const { incarnation } = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.brokers.drainStream();
    deps.clock.advance(SESSION_MS + 1);

    const back = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation });

    expect(back).toMatchObject({ incarnation: incarnation + 1, rejoined: true });
    const stream = deps.brokers.drainStream();
    expect(stream.map((r) => r.eventName)).toEqual(['REMOVE', 'INSERT']);
    expect(stream[0]).toMatchObject({ oldImage: { incarnation } });
    expect(stream[1]).toMatchObject({ newImage: { incarnation: incarnation + 1 } });
  });

  it('registers the next incarnation for a broker that restarted without one after its lease lapsed', async () => {
    const deps = await setup();
    const { incarnation } = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(SESSION_MS + 1);
    expect(await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') })).toMatchObject({ incarnation: incarnation + 1, rejoined: true });
  });

  it('keeps the lease alive up to and including its deadline', async () => {
    const deps = await setup();
    const { incarnation } = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(SESSION_MS);
    expect(await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation })).toMatchObject({ incarnation, rejoined: false });
  });

  it('refuses a different incarnation while the stored lease is alive: a zombie must not steal it', async () => {
    const deps = await setup();
    const { incarnation } = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    const before = await deps.brokers.get('A');

    await expect(heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: incarnation - 1 })).rejects.toThrow(FencedBrokerError);
    await expect(heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') })).rejects.toThrow(/alive as incarnation/);
    expect(await deps.brokers.get('A')).toEqual(before);
  });

  it('registers above the incarnation the broker names when its lease was already swept', async () => {
    const deps = await setup();
    const named = T0 + 60_000;
    expect(await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: named })).toMatchObject({ incarnation: named + 1 });
  });

  it('lets exactly one of two racing first heartbeats of one broker win', async () => {
    const deps = await setup();
    const results = await Promise.allSettled([heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') }), heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(FencedBrokerError) });
  });

  it("sweeps other brokers' lapsed leases and reports them", async () => {
    const deps = await setup();
    await heartbeat(deps, { brokerId: 'B', credential: credentialFor('B') });
    const a = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(SESSION_MS + 1);
    // A is lapsed too, but renews itself as a new incarnation instead of being swept.
    const result = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: a.incarnation });

    expect(result.sweptBrokers).toEqual(['B']);
    expect(await deps.brokers.get('B')).toBeNull();
  });

  it('waits out a peer lease about to lapse, then sweeps it', async () => {
    const deps = await setup();
    await heartbeat(deps, { brokerId: 'B', credential: credentialFor('B') });
    const a = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    // B has missed heartbeats: its lease lapses within the sweep's lookahead.
    deps.clock.advance(SESSION_MS - 200);
    const result = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: a.incarnation });
    expect(result.sweptBrokers).toEqual(['B']);
    expect(await deps.brokers.get('B')).toBeNull();
  });

  it('leaves a peer lease that is written again while the sweep waits for it to lapse', async () => {
    let renewC = async () => {};
    const deps = await setup({ whileSleeping: () => renewC() });
    const c = await heartbeat(deps, { brokerId: 'C', credential: credentialFor('C') });
    const a = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(SESSION_MS - 200);
    renewC = async () => {
      renewC = async () => {};
      await heartbeat(deps, { brokerId: 'C', credential: credentialFor('C'), incarnation: c.incarnation });
    };
    const result = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: a.incarnation });
    // The sweep's delete is conditional on what it saw: C's lease, renewed meanwhile, stays.
    expect(result.sweptBrokers).toEqual([]);
    expect(await deps.brokers.get('C')).not.toBeNull();
  });

  it.each([
    [undefined, /"request" must be an object/],
    [{}, /"brokerId" must be a string/],
    [{ brokerId: '' }, /"brokerId" must be 1 to 64 characters/],
    [{ brokerId: 'a#b' }, /"brokerId" must be 1 to 64 characters.*got "a#b"/],
    [{ brokerId: 'A', incarnation: 0 }, /"incarnation" must be an integer >= 1, got 0/],
    [{ brokerId: 'A', incarnation: '7' }, /"incarnation" must be an integer >= 1, got "7"/],
  ])('refuses %j without writing anything', async (input, message) => {
    const deps = await setup();
    await expect(heartbeat(deps, input)).rejects.toThrow(ValidationError);
    await expect(heartbeat(deps, input)).rejects.toThrow(message);
    expect(await deps.brokers.list()).toEqual([]);
  });
});

describe('sweepExpiredBrokers', () => {
  it('deletes every lapsed lease, and only those', async () => {
    const deps = await setup();
    const a = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(5_000);
    await heartbeat(deps, { brokerId: 'B', credential: credentialFor('B') });
    deps.clock.advance(SESSION_MS - 4_000);

    expect(await sweepExpiredBrokers(deps)).toEqual({ deleted: [{ brokerId: 'A', incarnation: a.incarnation }] });
    expect((await deps.brokers.list()).map((hb) => hb.brokerId)).toEqual(['B']);
    expect(await sweepExpiredBrokers(deps)).toEqual({ deleted: [] });
  });
});
