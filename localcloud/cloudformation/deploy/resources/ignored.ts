/**
 * Stand-in identities for skipped (control-plane-only) resources, so that other
 * resources can still Ref/GetAtt them (a function's Role is a GetAtt of a role's Arn).
 */
import { physicalName } from '../physical-name.js';
import type { ProvisionedResource } from './types.js';

const IAM_KINDS: Record<string, string> = {
  'AWS::IAM::Role': 'role',
  'AWS::IAM::Policy': 'policy',
  'AWS::IAM::ManagedPolicy': 'policy',
};

/** Types whose Ref is their ARN on AWS, not their name. */
const REF_IS_ARN: ReadonlySet<string> = new Set(['AWS::IAM::ManagedPolicy']);

export function placeholderResource(
  type: string,
  stackName: string,
  logicalId: string,
  env: { partition: string; region: string; accountId: string },
): ProvisionedResource {
  const name = physicalName(stackName, logicalId, 64);
  const iamKind = IAM_KINDS[type];
  const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
  const arn = iamKind
    ? `arn:${env.partition}:iam::${env.accountId}:${iamKind}/${name}`
    : `arn:${env.partition}:${service}:${env.region}:${env.accountId}:${name}`;
  return { physicalId: REF_IS_ARN.has(type) ? arn : name, attributes: { Arn: arn } };
}
