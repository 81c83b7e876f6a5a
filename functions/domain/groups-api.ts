/**
 * The groups function's use case: one Kafka group API per request, named by its `api`
 * field, answered by the group coordinator; and the read-only APIs an operator's tools use
 * (ListGroups, DescribeGroups), which show each group as its coordinator would now, its
 * lapsed sessions already removed.
 */
import type * as wire from '../../protocol/messages.js';
import type { GroupDeps } from '../ports/index.js';
import { CoordinatorNotAvailableError } from './errors.js';
import {
  coordinatorOf,
  findCoordinator,
  groupHeartbeat,
  joinGroup,
  leaveGroup,
  offsetCommit,
  offsetFetch,
  syncGroup,
} from './group-coordinator.js';
import type { Group } from './group-model.js';
import { tidy } from './group-rules.js';
import { parseDescribeGroupsRequest, parseGroupsApi, parseListGroupsRequest } from './requests.js';

type Served = { [A in wire.GroupsApi]: (deps: GroupDeps, input: unknown) => Promise<wire.GroupsResponses[A]> };

const SERVED: Served = {
  FindCoordinator: findCoordinator,
  JoinGroup: joinGroup,
  SyncGroup: syncGroup,
  Heartbeat: groupHeartbeat,
  LeaveGroup: leaveGroup,
  OffsetCommit: offsetCommit,
  OffsetFetch: offsetFetch,
  ListGroups: listGroups,
  DescribeGroups: describeGroups,
};

/** Answers one request of the groups function; an unknown `api` is a ValidationError naming the field. */
export async function serveGroups(deps: GroupDeps, input: unknown): Promise<wire.GroupsResponses[wire.GroupsApi]> {
  const api = parseGroupsApi(input);
  const { api: _api, ...request } = input as wire.GroupsRequest;
  return SERVED[api](deps, request);
}

/** The group as its coordinator sees it now: what time alone changed applied (nothing written). */
function asOfNow(deps: GroupDeps, group: Group): Group {
  tidy(group, deps.clock.now(), deps.settings);
  return group;
}

export async function listGroups(deps: GroupDeps, input: unknown): Promise<wire.ListGroupsResponse> {
  const { states } = parseListGroupsRequest(input);
  const groups = (await deps.groups.listGroups())
    .map((group) => asOfNow(deps, group))
    .filter((group) => states.length === 0 || states.includes(group.state))
    .map((group) => ({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state }))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  return { groups };
}

export async function describeGroups(deps: GroupDeps, input: unknown): Promise<wire.DescribeGroupsResponse> {
  const { groupIds } = parseDescribeGroupsRequest(input);
  const groups: wire.DescribedGroup[] = [];
  for (const groupId of groupIds) groups.push(await describeGroup(deps, groupId));
  return { groups };
}

async function describeGroup(deps: GroupDeps, groupId: string): Promise<wire.DescribedGroup> {
  let coordinator: string | null = null;
  let coordinatorEpoch = -1;
  try {
    const fence = await coordinatorOf(deps, groupId, undefined);
    coordinator = fence.leader;
    coordinatorEpoch = fence.leaderEpoch;
  } catch (error) {
    // A group whose coordinator is moving is still described, from its durable state.
    if (!(error instanceof CoordinatorNotAvailableError)) throw error;
  }
  const stored = await deps.groups.getGroup(groupId);
  if (stored === null) {
    return { groupId, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, leader: null, members: [], coordinator, coordinatorEpoch };
  }
  const group = asOfNow(deps, stored);
  return {
    groupId,
    state: group.state,
    protocolType: group.protocolType ?? '',
    protocolName: group.protocolName ?? '',
    generationId: group.generationId,
    leader: group.leader,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      assignment: member.assignment ?? '',
    })),
    coordinator,
    coordinatorEpoch,
  };
}
