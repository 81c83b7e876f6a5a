/**
 * A template body as CloudFormation accepts it: JSON, or YAML with the short-form
 * intrinsics (`!Ref`, `!Sub`, `!GetAtt A.B`...). `cdk bootstrap` sends its template as YAML.
 */
import { parse, type Tags } from 'yaml';

const FUNCTIONS = [
  'And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'If', 'ImportValue',
  'Join', 'Not', 'Or', 'Select', 'Split', 'Sub', 'Transform',
];

type TagDef = Tags[number];

function intrinsicTags(): TagDef[] {
  const tags: TagDef[] = [];
  const add = (tag: string, wrap: (value: unknown) => unknown): void => {
    for (const collection of [undefined, 'seq', 'map']) {
      tags.push({
        tag,
        ...(collection ? { collection } : {}),
        resolve: (value: unknown) => wrap(typeof value === 'object' && value !== null && 'toJSON' in value ? (value as { toJSON(): unknown }).toJSON() : value),
      } as TagDef);
    }
  };
  add('!Ref', (value) => ({ Ref: value }));
  add('!Condition', (value) => ({ Condition: value }));
  add('!GetAtt', (value) => ({ 'Fn::GetAtt': typeof value === 'string' ? value.split('.', 2) : value }));
  for (const name of FUNCTIONS) add(`!${name}`, (value) => ({ [`Fn::${name}`]: value }));
  return tags;
}

/** The parsed template, or an Error saying why it is neither JSON nor YAML. */
export function parseTemplateText(body: string): unknown {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(body);
  // YAML 1.1 would read `on`/`yes` as booleans; CloudFormation reads them as strings, as YAML 1.2 does.
  return parse(body, { customTags: intrinsicTags(), version: '1.2', maxAliasCount: 100 });
}
