/**
 * One member of a consumer group driven by hand through the groups function's classic
 * protocol (FindCoordinator, JoinGroup with the MEMBER_ID_REQUIRED round, SyncGroup as the
 * group's leader, heartbeats, LeaveGroup): what the operator's tools are tested against,
 * without depending on the client's Consumer. It joins a group alone or rejoined by itself:
 * it is the leader and assigns the partitions it is told to.
 */
import { isFunctionError, RemoteFunctionError, type LeadershipClient } from '../../../client/lambda-client.js';
import { encodeAssignment, encodeSubscription, type TopicPartitions } from '../../../protocol/consumer-protocol.js';

export interface JoinedMember {
  memberId: string;
  generationId: number;
  /** Keeps the session alive until `leave`. */
  leave(): Promise<void>;
}

const retriable = (error: unknown) => isFunctionError(error, 'CoordinatorNotAvailableError') || isFunctionError(error, 'NotCoordinatorError') || isFunctionError(error, 'GroupChangedError');

/** Calls again while the answer is pending (undefined) or a coordinator is being created or moving, to a deadline; other refusals are thrown. */
async function call<T>(what: string, act: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const answer = await act();
      if (answer !== undefined) return answer;
    } catch (error) {
      if (!retriable(error) || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** FindCoordinator until the offsets topic is there and led (its first call creates it: it needs offsets.topic.replication.factor live brokers). */
export function findCoordinator(client: LeadershipClient, groupId: string) {
  return call(`the coordinator of group ${groupId}`, () => client.invoke('groups', { api: 'FindCoordinator', groupId }));
}

export async function joinAsLeader(
  client: LeadershipClient,
  options: { groupId: string; clientId: string; topics: string[]; assignment: TopicPartitions[]; sessionTimeoutMs?: number; heartbeatIntervalMs?: number },
): Promise<JoinedMember> {
  const { groupId, clientId, topics } = options;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  await findCoordinator(client, groupId);
  const join = (memberId: string) =>
    client.invoke('groups', {
      api: 'JoinGroup',
      groupId,
      memberId,
      clientId,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: encodeSubscription({ topics, ownedPartitions: [] }) }],
      sessionTimeoutMs,
      rebalanceTimeoutMs: 60_000,
    });
  let memberId = '';
  try {
    await call('the first JoinGroup', () => join(''));
  } catch (error) {
    const given = error instanceof RemoteFunctionError && error.errorType === 'MemberIdRequiredError' ? /\[member id ([^\]]+)\]/.exec(error.message)?.[1] : undefined;
    if (!given) throw error;
    memberId = given;
  }
  const joined = await call('the JoinGroup to complete', async () => {
    const answer = await join(memberId);
    return 'pending' in answer ? undefined : answer;
  });
  if (joined.leader !== memberId) throw new Error(`member ${memberId} joined ${groupId} but ${joined.leader} leads it: joinAsLeader expects to be alone`);
  const assignment = encodeAssignment({ partitions: options.assignment });
  await call('the SyncGroup to complete', async () => {
    const answer = await client.invoke('groups', { api: 'SyncGroup', groupId, memberId, generationId: joined.generationId, assignments: [{ memberId, assignment }] });
    return 'pending' in answer ? undefined : answer;
  });
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    void client.invoke('groups', { api: 'Heartbeat', groupId, memberId, generationId: joined.generationId }).catch(() => undefined);
  }, options.heartbeatIntervalMs ?? Math.floor(sessionTimeoutMs / 3));
  // A test that fails before leaving must not be kept alive by its member.
  timer.unref();
  return {
    memberId,
    generationId: joined.generationId,
    async leave() {
      stopped = true;
      clearInterval(timer);
      await call(`member ${memberId} to leave`, () => client.invoke('groups', { api: 'LeaveGroup', groupId, memberId }));
    },
  };
}
