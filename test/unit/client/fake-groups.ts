import type { LambdaTransport } from '../../../client/lambda-client.js';
import type { DescribedGroup, FetchedOffset } from '../../../protocol/messages.js';
import { FakeLambda, fakeOutputs } from './fake-lambda.js';

/**
 * The groups function's read side and its commit outside the group protocol, over groups the
 * test sets, in front of a FakeLambda for everything else: what the operator's tools call.
 */
export class FakeGroups {
  readonly groups = new Map<string, { described: DescribedGroup; offsets: FetchedOffset[] }>();
  readonly commits: Array<Record<string, unknown>> = [];
  coordinatorEpoch = 3;

  constructor(readonly lambda: FakeLambda) {}

  set(described: Partial<DescribedGroup> & { groupId: string }, offsets: Array<Pick<FetchedOffset, 'topic' | 'partition' | 'offset'>> = []): void {
    this.groups.set(described.groupId, {
      described: {
        state: 'Stable',
        protocolType: 'consumer',
        protocolName: 'range',
        generationId: 1,
        leader: described.members?.[0]?.memberId ?? null,
        members: [],
        coordinator: 'B',
        coordinatorEpoch: this.coordinatorEpoch,
        ...described,
      },
      offsets: offsets.map((offset) => ({ committedLeaderEpoch: -1, metadata: '', ...offset })),
    });
  }

  readonly transport: LambdaTransport = (functionName, payloadText, options) => {
    if (functionName !== fakeOutputs.GroupsFunctionName) return this.lambda.transport(functionName, payloadText, options);
    this.lambda.calls.push({ functionName, payload: JSON.parse(payloadText) as Record<string, unknown> });
    try {
      return Promise.resolve({ payload: JSON.stringify(this.handle(JSON.parse(payloadText) as Record<string, unknown>)) });
    } catch (error) {
      const named = error as Error;
      return Promise.resolve({ functionError: 'Unhandled', payload: JSON.stringify({ errorType: named.name, errorMessage: named.message }) });
    }
  };

  private handle(request: Record<string, unknown>): unknown {
    const groupId = request.groupId as string;
    switch (request.api) {
      case 'ListGroups': {
        const states = request.states as string[] | undefined;
        return {
          groups: [...this.groups.values()]
            .map(({ described }) => ({ groupId: described.groupId, protocolType: described.protocolType, state: described.state }))
            .filter((group) => !states || states.includes(group.state)),
        };
      }
      case 'DescribeGroups':
        return {
          groups: (request.groupIds as string[]).map(
            (id) =>
              this.groups.get(id)?.described ?? { groupId: id, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, leader: null, members: [], coordinator: 'B', coordinatorEpoch: this.coordinatorEpoch },
          ),
        };
      case 'OffsetFetch':
        return { partitions: this.groups.get(groupId)?.offsets ?? [] };
      case 'FindCoordinator':
        return { groupId, topic: '__consumer_offsets', partition: 7, coordinator: 'B', coordinatorEpoch: this.coordinatorEpoch };
      case 'OffsetCommit': {
        if (!this.groups.has(groupId)) this.set({ groupId, state: 'Empty', protocolType: '', protocolName: '', generationId: 0 });
        const group = this.groups.get(groupId)!;
        if (group.described.members.length > 0) throw named('UnknownMemberIdError', `group "${groupId}" has members`);
        this.commits.push(request);
        for (const { topic, partition, offset } of request.offsets as FetchedOffset[]) {
          group.offsets = [...group.offsets.filter((o) => o.topic !== topic || o.partition !== partition), { topic, partition, offset, committedLeaderEpoch: -1, metadata: '' }];
        }
        return { partitions: (request.offsets as FetchedOffset[]).map(({ topic, partition }) => ({ topic, partition })) };
      }
      default:
        throw named('ValidationError', `unknown api ${String(request.api)}`);
    }
  }
}

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
