/**
 * AWS::SSM::Parameter → a moto SSM parameter. The CDK CLI reads the bootstrap stack's
 * `/cdk-bootstrap/<qualifier>/version` before every deploy, so this one must really exist.
 */
import { isRecord } from '../../../shared/guards.js';
import { jsonCall, RawAwsError } from '../../../shared/raw-aws.js';
import { physicalName } from '../physical-name.js';
import type { ResourceProvisioner } from './types.js';

const TYPES = ['String', 'StringList'] as const;

export const ssmParameter: ResourceProvisioner = {
  async provision(ctx) {
    const { props, target } = ctx;
    const name = props.optString('Name') ?? `CFN-${physicalName(ctx.stackName, ctx.logicalId, 1000)}`;
    const type = props.enumValue('Type', TYPES);
    const value = props.string('Value');
    await jsonCall(target.awsEndpoint, target.region, 'AmazonSSM.PutParameter', {
      Name: name,
      Type: type,
      Value: value,
      Overwrite: true,
      ...(props.optString('Description') ? { Description: props.optString('Description') } : {}),
    });
    return { physicalId: name, attributes: { Type: type, Value: value } };
  },
  async delete(ctx) {
    try {
      await jsonCall(ctx.target.awsEndpoint, ctx.target.region, 'AmazonSSM.DeleteParameter', { Name: ctx.physicalId });
    } catch (err) {
      if (!(err instanceof RawAwsError && err.code === 'ParameterNotFound')) throw err;
    }
  },
};

/** The current value of an SSM parameter (for `AWS::SSM::Parameter::Value<...>` template parameters), or undefined. */
export async function readSsmParameter(endpoint: string, region: string, name: string): Promise<string | undefined> {
  try {
    const result = await jsonCall(endpoint, region, 'AmazonSSM.GetParameter', { Name: name });
    const parameter = isRecord(result) && isRecord(result.Parameter) ? result.Parameter : undefined;
    return typeof parameter?.Value === 'string' ? parameter.Value : undefined;
  } catch (err) {
    if (err instanceof RawAwsError && err.code === 'ParameterNotFound') return undefined;
    throw err;
  }
}
