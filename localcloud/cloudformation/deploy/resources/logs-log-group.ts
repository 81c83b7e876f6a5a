/**
 * AWS::Logs::LogGroup → a group of the cloud's CloudWatch Logs (logs/store.ts), with its
 * retention recorded (not enforced: events are capped per stream instead). A redeploy
 * keeps the group and its events and updates the retention; delete removes both.
 */
import { TemplateError } from '../errors.js';
import { physicalName } from '../physical-name.js';
import { describeResource, type ResourceProvisioner } from './types.js';

const LOG_GROUP_NAME_MAX = 512;
/** The retentions CloudWatch Logs accepts, in days. */
const RETENTION_DAYS = new Set([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);

export const logsLogGroup: ResourceProvisioner = {
  provision(ctx) {
    const name = ctx.props.optString('LogGroupName') ?? physicalName(ctx.stackName, ctx.logicalId, LOG_GROUP_NAME_MAX);
    const retentionInDays = ctx.props.optNumber('RetentionInDays');
    if (retentionInDays !== undefined && !RETENTION_DAYS.has(retentionInDays)) {
      throw new TemplateError(`${describeResource(ctx)}: RetentionInDays ${retentionInDays} is not one CloudWatch Logs accepts (${[...RETENTION_DAYS].join(', ')})`);
    }
    ctx.target.logs.putLogGroup(name, retentionInDays);
    const arn = `arn:${ctx.partition}:logs:${ctx.target.region}:${ctx.target.accountId}:log-group:${name}:*`;
    return Promise.resolve({ physicalId: name, attributes: { Arn: arn } });
  },
  delete(ctx) {
    ctx.target.logs.removeLogGroup(ctx.physicalId);
    return Promise.resolve();
  },
};
