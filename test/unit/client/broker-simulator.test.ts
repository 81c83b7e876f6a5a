import { afterEach, describe, expect, it } from 'vitest';
import { BrokerSimulator, registerCredentials } from '../../../client/broker-simulator.js';
import { type HeartbeatResponse, type LeadershipClient, RemoteFunctionError } from '../../../client/lambda-client.js';
import { pollUntil } from '../../../client/poll.js';

/**
 * A heartbeat function and RegisterBroker that share one registry, which `forgetAll` empties
 * as a local cloud restarted in memory does.
 */
class FakeCluster {
  private readonly registered = new Map<string, string>();
  private issued = 0;
  readonly refusals: string[] = [];

  forgetAll(): void {
    this.registered.clear();
  }

  readonly client = {
    registerBroker: (brokerId: string) => {
      const credential = `credential-${++this.issued}`;
      this.registered.set(brokerId, credential);
      return Promise.resolve({ brokerId, credential, rotated: false });
    },
    heartbeat: (brokerId: string, credential: string): Promise<HeartbeatResponse> => {
      if (this.registered.get(brokerId) !== credential) {
        this.refusals.push(brokerId);
        return Promise.reject(new RemoteFunctionError('heartbeat-fn', 'BrokerAuthenticationError', `broker "${brokerId}": authentication failed`));
      }
      return Promise.resolve({ brokerId, incarnation: 1, deadlineMs: Date.now() + 3000, expiresAt: 0, rejoined: false, sweptBrokers: [] });
    },
  } as unknown as LeadershipClient;
}

describe('BrokerSimulator: credentials refused after a restart of the cloud', () => {
  let simulator: BrokerSimulator | undefined;
  afterEach(async () => simulator?.stop());

  it('registers a refused broker afresh when it renews refused credentials (the console, the cluster admin)', async () => {
    const cluster = new FakeCluster();
    const accepted: string[] = [];
    simulator = new BrokerSimulator(cluster.client, {
      heartbeatIntervalMs: 20,
      credentials: registerCredentials(cluster.client),
      renewRefusedCredentials: true,
      staggerHeartbeats: false,
      onHeartbeat: (brokerId) => accepted.push(brokerId),
    });
    await simulator.start(['A']);
    const before = simulator.credentialOf('A');

    cluster.forgetAll();
    await pollUntil(() => cluster.refusals.length > 0, { timeoutMs: 5000, intervalMs: 5, description: 'a refused heartbeat' });
    const acceptedAtRefusal = accepted.length;
    await pollUntil(() => accepted.length > acceptedAtRefusal, { timeoutMs: 5000, intervalMs: 5, description: 'A accepted again' });

    expect(simulator.credentialOf('A')).not.toBe(before);
  });

  it('keeps a refused credential by default: a rotation elsewhere locks the broker out', async () => {
    const cluster = new FakeCluster();
    simulator = new BrokerSimulator(cluster.client, {
      heartbeatIntervalMs: 20,
      credentials: registerCredentials(cluster.client),
      staggerHeartbeats: false,
    });
    await simulator.start(['A']);
    const before = simulator.credentialOf('A');

    cluster.forgetAll();
    await pollUntil(() => cluster.refusals.length >= 3, { timeoutMs: 5000, intervalMs: 5, description: 'three refused heartbeats' });

    expect(simulator.credentialOf('A')).toBe(before);
  });
});
