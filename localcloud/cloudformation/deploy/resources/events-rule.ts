/**
 * AWS::Events::Rule with a ScheduleExpression and Lambda targets → Scheduler.upsert.
 * Event-pattern rules (no event bus here) and other target kinds fail the deploy:
 * this project has none, and skipping them would hide a missing behaviour.
 */
import { functionNameOf, isLambdaFunctionArn } from '../../../shared/arn.js';
import type { ScheduleSpec } from '../../../types.js';
import { TemplateError } from '../errors.js';
import { physicalName } from '../physical-name.js';
import { describeResource, type ProvisionContext, type ProvisionedResource, type ResourceProvisioner } from './types.js';

const RULE_NAME_MAX = 64;

function parseInput(text: string | undefined, where: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new TemplateError(`${where}: target Input is not valid JSON: ${text}`);
  }
}

export const eventsRule: ResourceProvisioner = {
  // Synchronous inside (the schedule is kept in memory); wrapped so that a refusal is a rejection.
  provision(ctx) {
    return new Promise((resolve) => resolve(scheduleRule(ctx)));
  },
  delete(ctx) {
    // A rule with targets of several inputs became several schedules: `name#1`, `name#2`...
    for (const spec of ctx.target.scheduler.list()) {
      if (spec.name === ctx.physicalId || spec.name.startsWith(`${ctx.physicalId}#`)) ctx.target.scheduler.remove(spec.name);
    }
    return Promise.resolve();
  },
};

function scheduleRule(ctx: ProvisionContext): ProvisionedResource {
  const { props, target } = ctx;
  const where = describeResource(ctx);
  const name = props.optString('Name') ?? physicalName(ctx.stackName, ctx.logicalId, RULE_NAME_MAX);
  const arn = `arn:${ctx.partition}:events:${target.region}:${target.accountId}:rule/${name}`;
  const result = { physicalId: name, attributes: { Arn: arn } };
  const scheduleExpression = props.optString('ScheduleExpression');
  if (scheduleExpression === undefined) {
    throw new TemplateError(`${where}: only schedule rules are emulated (no event bus for an EventPattern)`);
  }
  if ((props.optString('State') ?? 'ENABLED') !== 'ENABLED') {
    ctx.log.debug(`${where}: rule is disabled; not scheduled`);
    return result;
  }

  // A ScheduleSpec carries one input for all its targets: group targets by input.
  const byInput = new Map<string, { input: unknown; functions: string[] }>();
  for (const t of props.objectList('Targets')) {
    const targetArn = t.string('Arn');
    if (!isLambdaFunctionArn(targetArn)) {
      throw new TemplateError(`${where}: target ${targetArn} is not a Lambda function; only Lambda targets are emulated`);
    }
    const input = parseInput(t.optString('Input'), where);
    const key = JSON.stringify(input) ?? '';
    const group = byInput.get(key) ?? { input, functions: [] };
    group.functions.push(functionNameOf(targetArn));
    byInput.set(key, group);
  }
  const groups = [...byInput.values()];
  groups.forEach((group, i) => {
    const spec: ScheduleSpec = {
      name: groups.length === 1 ? name : `${name}#${i + 1}`,
      scheduleExpression,
      targetFunctionNames: group.functions,
      ...(group.input === undefined ? {} : { input: group.input }),
    };
    target.scheduler.upsert(spec);
  });
  return result;
}
