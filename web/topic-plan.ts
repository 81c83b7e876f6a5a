/**
 * The planner for a topic of the running cluster: its replication factor and
 * min.insync.replicas, partitions and storage mode as described, its brokers as alive, the
 * produce rate the console observed unless one is entered; the rest as `npm run cli -- plan` takes it.
 */
import { readMeasurements } from '../cost/measurements.js';
import { formatPlan, parsePlanRequest, planCluster, type PlanFlag } from '../cost/plan.js';
import type { TopicPlanAnswer, TopicRow } from './snapshot.js';

/** The form's fields, named as the CLI's flags so the planner's errors name them as the form does. */
export const TOPIC_PLAN_FIELDS = ['records-per-second', 'record-bytes', 'retention', 'storage', 'records-per-call'] as const satisfies readonly PlanFlag[];

export class TopicPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicPlanError';
  }
}

export async function planTopic(query: URLSearchParams, topics: TopicRow[], liveBrokers: number, benchDir: string): Promise<TopicPlanAnswer> {
  const name = query.get('topic')?.trim() ?? '';
  if (name === '') throw new TopicPlanError('choose a topic to plan');
  const topic = topics.find((candidate) => candidate.topic === name);
  if (!topic) throw new TopicPlanError(`no topic "${name}" in the cluster (topics: ${topics.map((t) => t.topic).join(', ') || 'none'})`);
  const given = Object.fromEntries(TOPIC_PLAN_FIELDS.map((field) => [field, query.get(field)?.trim() || undefined])) as Partial<Record<PlanFlag, string>>;
  const observed = topic.committedRecordsPerSecond;
  const rateSource = given['records-per-second'] === undefined ? 'observed' : 'entered';
  if (rateSource === 'observed') {
    if (observed === undefined || observed <= 0) {
      throw new TopicPlanError(
        `--records-per-second is required: ${observed === undefined ? `the console has not watched "${name}" for 10 s yet` : `"${name}" committed no records in the last 10 s`}; enter the rate to plan for`,
      );
    }
    // One decimal is as much as 10 s of high watermarks can tell.
    given['records-per-second'] = String(observed >= 0.1 ? Math.round(observed * 10) / 10 : observed);
  }
  const replicationFactor = topic.replicationFactor;
  const minInsyncReplicas = topic.minInsyncReplicas ?? 1;
  const brokers = Math.max(replicationFactor, liveBrokers);
  // The topic's own storage mode unless another is asked for; its partitions (a diskless flush carries one batch for each).
  given.storage ??= topic.storage;
  const request = parsePlanRequest({ ...given, rf: String(replicationFactor), 'min-insync': String(minInsyncReplicas), brokers: String(brokers), partitions: String(topic.partitionCount) });
  const plan = planCluster(request, await readMeasurements(benchDir));
  return { topic: name, replicationFactor, minInsyncReplicas, brokers, recordsPerSecond: request.recordsPerSecond, rateSource, lines: formatPlan(plan) };
}
