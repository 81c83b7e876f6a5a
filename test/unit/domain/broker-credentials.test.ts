/**
 * Broker identity (security probe, section 5, first row): describe showed every broker's
 * incarnation, which was all a controlled shutdown checked, and any caller could register as
 * any broker whose lease had lapsed. A broker now proves itself with the credential an admin
 * registered for it (RegisterBroker, Kafka's SCRAM credentials); the table keeps a salted hash.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryDeps, type MemoryDeps } from '../../../functions/adapters/memory/index.js';
import { BrokerAuthenticationError, ValidationError } from '../../../functions/domain/errors.js';
import {
  controlledShutdown,
  describe as describeCluster,
  heartbeat,
  registerBroker,
} from '../../../functions/domain/index.js';
import { generatedCredential } from '../../../functions/domain/broker-credentials.js';
import { ClusterHarness, credentialFor, observableState } from '../../factories/cluster.js';
import { T0 } from '../../factories/entities.js';

const SESSION_MS = 9_000;

/** Everything a heartbeat or a shutdown could write (leases, credentials, partitions, logs, events), from here on. */
async function stateFromNow(deps: MemoryDeps): Promise<string> {
  deps.brokers.drainStream();
  return observableState(deps);
}

/** Nothing was written since `stateFromNow`: the same state, and no lease change on the stream. */
async function expectNothingWritten(deps: MemoryDeps, before: string): Promise<void> {
  expect(await observableState(deps)).toBe(before);
  expect(deps.brokers.drainStream()).toEqual([]);
}

const wrongCredential = credentialFor('someone else');

describe('RegisterBroker', () => {
  it('never generates a credential that starts with a dash, which a command line would read as an option', () => {
    // A dash is 1 of base64url's 64 first characters: 2,000 draws all miss it by chance with probability (63/64)^2000, about 2e-14.
    const firstCharacters = new Set(Array.from({ length: 2_000 }, () => generatedCredential()[0]));
    expect(firstCharacters.has('-')).toBe(false);
    expect(firstCharacters.size).toBeGreaterThan(50);
  });

  it('generates a 256-bit credential, answers it once and stores only a salted SHA-256 of it', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const result = await registerBroker(deps, { brokerId: 'A' });

    expect(result).toEqual({ brokerId: 'A', credential: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), rotated: false });
    expect(Buffer.from(result.credential, 'base64url')).toHaveLength(32);
    const stored = deps.tables.brokerCredentials.get('A')!;
    expect(stored).toEqual({ brokerId: 'A', salt: expect.any(String), hash: expect.any(String), registeredAt: T0 });
    expect(Buffer.from(stored.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(stored.hash, 'base64')).toHaveLength(32);
    expect(JSON.stringify([...deps.tables.brokerCredentials.values()])).not.toContain(result.credential);
    // Two registrations never share a credential or a salt.
    const other = await registerBroker(deps, { brokerId: 'B' });
    expect(other.credential).not.toBe(result.credential);
    expect(deps.tables.brokerCredentials.get('B')!.salt).not.toBe(stored.salt);
  });

  it('takes a credential of the admin’s choosing, as long as a generated one', async () => {
    const deps = createMemoryDeps({ startAt: T0 });
    const chosen = credentialFor('A');
    expect(await registerBroker(deps, { brokerId: 'A', credential: chosen })).toEqual({ brokerId: 'A', credential: chosen, rotated: false });
    await expect(heartbeat(deps, { brokerId: 'A', credential: chosen })).resolves.toMatchObject({ rejoined: true });
  });

  it.each([
    [{}, /"brokerId" must be a string/],
    [{ brokerId: 'a#b' }, /"brokerId" must be 1 to 64 characters/],
    [{ brokerId: 'A', credential: 'short-secret' }, /"credential" must be a string of 43 to 256 characters.*got a string of 12 characters \(not shown\)/],
    [{ brokerId: 'A', credential: `${'x'.repeat(42)}!` }, /"credential" must be a string of 43 to 256/],
    [{ brokerId: 'A', credential: 42 }, /"credential" must be .*got a number/],
  ])('refuses %j, without showing the credential, and stores nothing', async (input, message) => {
    const deps = createMemoryDeps({ startAt: T0 });
    const refusal = registerBroker(deps, input);
    await expect(refusal).rejects.toThrow(ValidationError);
    await expect(registerBroker(deps, input)).rejects.toThrow(message);
    await expect(registerBroker(deps, input)).rejects.not.toThrow(/short-secret|xxxxxxxx/);
    expect(deps.tables.brokerCredentials.size).toBe(0);
  });
});

describe('a heartbeat authenticates the broker before it reads or writes anything for it', () => {
  async function cluster() {
    const deps = createMemoryDeps({ startAt: T0, settings: { sessionTimeoutMs: SESSION_MS } });
    for (const brokerId of ['A', 'B']) await registerBroker(deps, { brokerId, credential: credentialFor(brokerId) });
    return deps;
  }

  it('refuses a heartbeat without a credential, with a wrong one, or for a broker with none registered: no lease, no sweep', async () => {
    const deps = await cluster();
    await heartbeat(deps, { brokerId: 'B', credential: credentialFor('B') });
    deps.clock.advance(SESSION_MS + 1); // B lapsed: any accepted heartbeat would sweep it
    const before = await stateFromNow(deps);

    for (const request of [
      { brokerId: 'A' },
      { brokerId: 'A', credential: null },
      { brokerId: 'A', credential: wrongCredential },
      { brokerId: 'A', credential: credentialFor('B') },
      { brokerId: 'Z', credential: credentialFor('Z') },
    ]) {
      const refusal = heartbeat(deps, request);
      await expect(refusal).rejects.toThrow(BrokerAuthenticationError);
      await expect(heartbeat(deps, request)).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    }
    await expect(heartbeat(deps, { brokerId: 'A' })).rejects.toThrow(/carries no "credential"/);
    // One wording for an unknown broker and a wrong credential: no oracle for which ids exist.
    const messageOf = (call: Promise<unknown>) => call.then(() => '', (error: Error) => error.message);
    const unknown = await messageOf(heartbeat(deps, { brokerId: 'Z', credential: wrongCredential }));
    const wrong = await messageOf(heartbeat(deps, { brokerId: 'A', credential: wrongCredential }));
    expect(wrong).not.toBe('');
    expect(unknown.replace('"Z"', '"?"')).toBe(wrong.replace('"A"', '"?"'));
    await expectNothingWritten(deps, before);
    expect(await deps.brokers.get('B')).not.toBeNull();
  });

  it('registers nothing for a lapsed broker id when the caller lacks its credential (it was anyone’s to take)', async () => {
    const deps = await cluster();
    const first = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    deps.clock.advance(SESSION_MS + 1);
    const before = await stateFromNow(deps);

    await expect(heartbeat(deps, { brokerId: 'A', incarnation: first.incarnation })).rejects.toThrow(BrokerAuthenticationError);
    await expect(heartbeat(deps, { brokerId: 'A', credential: wrongCredential })).rejects.toThrow(BrokerAuthenticationError);

    await expectNothingWritten(deps, before);
    expect(await deps.brokers.get('A')).toMatchObject({ incarnation: first.incarnation, deadlineMs: T0 + SESSION_MS });
    // The broker itself still may.
    await expect(heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') })).resolves.toMatchObject({
      incarnation: first.incarnation + 1,
      rejoined: true,
    });
  });

  it('answers a wrong credential as such, even where the lease would fence the caller: nothing about the lease is told', async () => {
    const deps = await cluster();
    await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    await expect(heartbeat(deps, { brokerId: 'A', credential: wrongCredential })).rejects.toThrow(BrokerAuthenticationError);
    await expect(heartbeat(deps, { brokerId: 'A', credential: wrongCredential })).rejects.not.toThrow(/incarnation/);
  });

  it('a rotation refuses the old credential from the next heartbeat on; the new one renews the same lease', async () => {
    const deps = await cluster();
    const before = await heartbeat(deps, { brokerId: 'A', credential: credentialFor('A') });
    const rotated = await registerBroker(deps, { brokerId: 'A' });
    expect(rotated.rotated).toBe(true);

    deps.brokers.drainStream();
    await expect(heartbeat(deps, { brokerId: 'A', credential: credentialFor('A'), incarnation: before.incarnation })).rejects.toThrow(
      BrokerAuthenticationError,
    );
    expect(deps.brokers.drainStream()).toEqual([]);
    deps.clock.advance(1_000);
    await expect(heartbeat(deps, { brokerId: 'A', credential: rotated.credential, incarnation: before.incarnation })).resolves.toMatchObject({
      incarnation: before.incarnation,
      rejoined: false,
      deadlineMs: T0 + 1_000 + SESSION_MS,
    });
  });

  it('refuses a credential of the wrong shape as a ValidationError that does not show it', async () => {
    const deps = await cluster();
    const refusal = heartbeat(deps, { brokerId: 'A', credential: 'hunter2' });
    await expect(refusal).rejects.toThrow(ValidationError);
    await expect(heartbeat(deps, { brokerId: 'A', credential: 'hunter2' })).rejects.toThrow(/got a string of 7 characters \(not shown\)/);
    await expect(heartbeat(deps, { brokerId: 'A', credential: 'hunter2' })).rejects.not.toThrow(/hunter2/);
  });
});

describe('a controlled shutdown needs the broker’s credential, not only its incarnation', () => {
  async function threeBrokers(): Promise<ClusterHarness> {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B', 'C');
    await cluster.createTopic('orders', 3, 3);
    for (const partition of [1, 2, 3]) await cluster.produceValues('orders', partition, [`a${partition}`]);
    return cluster;
  }

  it('refuses a caller that read the incarnation from describe: nothing moves, the lease stays', async () => {
    const cluster = await threeBrokers();
    const { brokers } = await describeCluster(cluster.deps, {});
    const { incarnation } = brokers.find((broker) => broker.brokerId === 'A')!;
    const before = await stateFromNow(cluster.deps);

    await expect(controlledShutdown(cluster.deps, { brokerId: 'A', incarnation })).rejects.toThrow(BrokerAuthenticationError);
    await expect(controlledShutdown(cluster.deps, { brokerId: 'A', incarnation, credential: wrongCredential })).rejects.toThrow(
      BrokerAuthenticationError,
    );
    await expect(controlledShutdown(cluster.deps, { brokerId: 'A', incarnation, credential: credentialFor('B') })).rejects.toThrow(
      BrokerAuthenticationError,
    );

    await expectNothingWritten(cluster.deps, before);
    expect(await cluster.deps.brokers.get('A')).not.toHaveProperty('shuttingDown');
    expect(await cluster.partition('orders', 1)).toMatchObject({ leader: 'A', leaderEpoch: 0 });
  });

  it('refuses a shutdown with the credential the broker had before a rotation', async () => {
    const cluster = await threeBrokers();
    await registerBroker(cluster.deps, { brokerId: 'A' });
    const before = await stateFromNow(cluster.deps);
    await expect(
      controlledShutdown(cluster.deps, { brokerId: 'A', incarnation: cluster.incarnationOf('A'), credential: credentialFor('A') }),
    ).rejects.toThrow(BrokerAuthenticationError);
    await expectNothingWritten(cluster.deps, before);
  });

  it('shuts the broker down with its credential', async () => {
    const cluster = await threeBrokers();
    const result = await controlledShutdown(cluster.deps, {
      brokerId: 'A',
      incarnation: cluster.incarnationOf('A'),
      credential: credentialFor('A'),
    });
    expect(result).toMatchObject({ movedLeaderships: ['orders-1'], deregistered: true });
  });
});

describe('describe', () => {
  it('shows no credential, salt or hash', async () => {
    const cluster = new ClusterHarness();
    await cluster.start('A', 'B');
    const generated = await registerBroker(cluster.deps, { brokerId: 'C' });
    await heartbeat(cluster.deps, { brokerId: 'C', credential: generated.credential });
    await cluster.createTopic('orders', 2, 2);

    const text = JSON.stringify(await describeCluster(cluster.deps, {}));

    const secrets = [credentialFor('A'), credentialFor('B'), generated.credential];
    const stored = [...cluster.deps.tables.brokerCredentials.values()].flatMap((credential) => [credential.salt, credential.hash]);
    for (const secret of [...secrets, ...stored]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/credential|salt|hash/i);
  });
});
