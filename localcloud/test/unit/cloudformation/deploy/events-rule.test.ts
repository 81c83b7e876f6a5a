import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../../cloudformation/deploy/errors.js';
import { PropertyReader } from '../../../../cloudformation/deploy/props.js';
import { eventsRule } from '../../../../cloudformation/deploy/resources/events-rule.js';
import type { ProvisionContext } from '../../../../cloudformation/deploy/resources/types.js';
import type { DeployTarget } from '../../../../cloudformation/deploy/target.js';
import { createLogger } from '../../../../shared/log.js';
import type { ScheduleSpec } from '../../../../types.js';

const FN_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:sweep';

function context(properties: Record<string, unknown>): { ctx: ProvisionContext; upserted: ScheduleSpec[] } {
  const upserted: ScheduleSpec[] = [];
  const target = { region: 'us-east-1', accountId: '123456789012', scheduler: { upsert: (spec: ScheduleSpec) => upserted.push(spec) } };
  const ctx = {
    stackName: 'S',
    logicalId: 'Tick',
    resourceType: 'AWS::Events::Rule',
    props: new PropertyReader(properties, 'AWS::Events::Rule Tick in stack S'),
    target: target as unknown as DeployTarget,
    partition: 'aws',
    log: createLogger('test'),
  } as ProvisionContext;
  return { ctx, upserted };
}

describe('AWS::Events::Rule', () => {
  it('schedules an ENABLED rate rule for its Lambda targets, as the product stack writes it', async () => {
    const { ctx, upserted } = context({
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [{ Arn: FN_ARN, Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    expect(await eventsRule.provision(ctx)).toEqual({
      physicalId: 'S-Tick',
      attributes: { Arn: 'arn:aws:events:us-east-1:123456789012:rule/S-Tick' },
    });
    expect(upserted).toEqual([{ name: 'S-Tick', scheduleExpression: 'rate(1 minute)', targetFunctionNames: ['sweep'] }]);
  });

  it('does not schedule a DISABLED rule', async () => {
    const { ctx, upserted } = context({ ScheduleExpression: 'rate(1 minute)', State: 'DISABLED', Targets: [{ Arn: FN_ARN }] });
    await eventsRule.provision(ctx);
    expect(upserted).toEqual([]);
  });

  it('rejects an event-pattern rule and a target that is not a Lambda function', async () => {
    await expect(eventsRule.provision(context({ EventPattern: { source: ['x'] } }).ctx)).rejects.toThrow(
      new TemplateError('AWS::Events::Rule Tick in stack S: only schedule rules are emulated (no event bus for an EventPattern)'),
    );
    const queueTarget = context({ ScheduleExpression: 'rate(1 minute)', Targets: [{ Arn: 'arn:aws:sqs:us-east-1:123456789012:q' }] });
    await expect(eventsRule.provision(queueTarget.ctx)).rejects.toThrow(/is not a Lambda function; only Lambda targets are emulated/);
  });
});
