/**
 * CloudFormation intrinsic functions: a static scan (which intrinsics and which
 * logical ids a value uses — run before anything is created, so an unknown
 * intrinsic fails the deploy up front) and the resolution itself. Only the
 * intrinsics this project's templates use are here (localcloud/README.md lists
 * them); any other fails the deploy as unknown rather than resolving wrongly.
 */
import { isRecord } from '../../shared/guards.js';
import { TemplateError, UnknownIntrinsicError } from './errors.js';

/** Where the values behind Ref, GetAtt and imports come from. */
export interface ResolveScope {
  /** Resources and pseudo parameters. */
  ref(name: string, at: string): unknown;
  getAtt(logicalId: string, attribute: string, at: string): unknown;
  importValue(exportName: string, at: string): unknown;
  /** A named entry of the template's Conditions (Fn::If and the Condition intrinsic read it). */
  condition(name: string, at: string): boolean;
}

/**
 * What `Ref: AWS::NoValue` resolves to: the property or list item holding it is dropped,
 * as CloudFormation does (the bootstrap template writes it under Fn::If).
 */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

const SUPPORTED = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Join',
  'Fn::Sub',
  'Fn::Select',
  'Fn::Split',
  'Fn::Equals',
  'Fn::Or',
  'Fn::And',
  'Fn::Not',
  'Fn::If',
  'Fn::ImportValue',
  'Condition',
]);

/** The intrinsic an object denotes, if it is one: a single key "Ref" or "Fn::…". */
function intrinsicOf(value: Record<string, unknown>): [string, unknown] | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys;
  // `{ "Condition": "Name" }` is an intrinsic only inside Conditions; a resource's Condition key sits next to Type.
  const isCondition = key === 'Condition' && typeof value[key] === 'string';
  return key === 'Ref' || isCondition || key.startsWith('Fn::') ? [key, value[key]] : undefined;
}

/** `${Name}` / `${Res.Attr}` placeholders of an Fn::Sub string; `${!Literal}` is an escape. */
function subPlaceholders(template: string): string[] {
  return [...template.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1].trim()).filter((name) => !name.startsWith('!'));
}

/** A Sub placeholder or GetAtt string "Res.Attr.Path" → [logicalId, attribute]. */
function splitAttribute(name: string): [string, string] {
  const dot = name.indexOf('.');
  return dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
}

/**
 * Validates every intrinsic in `value` and returns the names it references
 * (logical ids, parameters, pseudo parameters; the caller keeps what it knows).
 */
export function scanIntrinsics(value: unknown, at: string): Set<string> {
  const refs = new Set<string>();
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${where}[${i}]`));
      return;
    }
    if (!isRecord(node)) return;
    const intrinsic = intrinsicOf(node);
    if (!intrinsic) {
      for (const [key, child] of Object.entries(node)) walk(child, `${where}.${key}`);
      return;
    }
    const [name, arg] = intrinsic;
    if (!SUPPORTED.has(name)) throw new UnknownIntrinsicError(name, where);
    if (name === 'Ref' && typeof arg === 'string') refs.add(arg);
    if (name === 'Fn::GetAtt') {
      const target: unknown = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? splitAttribute(arg)[0] : undefined;
      if (typeof target === 'string') refs.add(target);
    }
    if (name === 'Fn::Sub') {
      const parts: unknown[] = Array.isArray(arg) ? arg : [arg];
      const [template, vars] = parts;
      const local = isRecord(vars) ? new Set(Object.keys(vars)) : new Set<string>();
      if (typeof template === 'string') {
        for (const placeholder of subPlaceholders(template)) {
          if (!local.has(placeholder)) refs.add(splitAttribute(placeholder)[0]);
        }
      }
    }
    walk(arg, `${where}.${name}`);
  };
  walk(value, at);
  return refs;
}

function expectArray(arg: unknown, length: number | undefined, fn: string, at: string): unknown[] {
  if (!Array.isArray(arg) || (length !== undefined && arg.length !== length)) {
    throw new TemplateError(`${fn} at ${at} expects a list${length === undefined ? '' : ` of ${length}`}`);
  }
  return arg;
}

function asText(value: unknown, fn: string, at: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${fn} at ${at} needs a string, got ${JSON.stringify(value)}`);
}

function asBoolean(value: unknown, fn: string, at: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new TemplateError(`${fn} at ${at} needs a condition (boolean), got ${JSON.stringify(value)}`);
}

/** Resolves every intrinsic in `value`. */
export function resolveValue(value: unknown, scope: ResolveScope, at: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveValue(item, scope, `${at}[${i}]`)).filter((item) => item !== NO_VALUE);
  }
  if (!isRecord(value)) return value;
  const intrinsic = intrinsicOf(value);
  if (intrinsic) return resolveIntrinsic(intrinsic[0], intrinsic[1], scope, `${at}.${intrinsic[0]}`);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const resolved = resolveValue(child, scope, `${at}.${key}`);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function resolveSub(arg: unknown, scope: ResolveScope, at: string): string {
  const [template, rawVars] = Array.isArray(arg) ? expectArray(arg, 2, 'Fn::Sub', at) : [arg, {}];
  if (typeof template !== 'string') throw new TemplateError(`Fn::Sub at ${at} needs a template string`);
  const vars = resolveValue(rawVars, scope, at);
  if (!isRecord(vars)) throw new TemplateError(`Fn::Sub at ${at}: variables must be an object`);
  return template.replace(/\$\{([^}]*)\}/g, (_whole, rawName: string) => {
    const name = rawName.trim();
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in vars) return asText(vars[name], 'Fn::Sub', at);
    const [logicalId, attribute] = splitAttribute(name);
    // "AWS::Region" has no dot; "Res.Attr" is a GetAtt.
    const value = attribute === '' ? scope.ref(name, at) : scope.getAtt(logicalId, attribute, at);
    return asText(value, 'Fn::Sub', at);
  });
}

function resolveIntrinsic(fn: string, rawArg: unknown, scope: ResolveScope, at: string): unknown {
  switch (fn) {
    case 'Ref':
      return scope.ref(asText(resolveValue(rawArg, scope, at), fn, at), at);
    case 'Fn::GetAtt': {
      const resolved = resolveValue(rawArg, scope, at);
      const [logicalId, attribute] = Array.isArray(resolved)
        ? expectArray(resolved, 2, fn, at).map((part) => asText(part, fn, at))
        : splitAttribute(asText(resolved, fn, at));
      return scope.getAtt(logicalId, attribute, at);
    }
    case 'Fn::Join': {
      const [delimiter, list] = expectArray(rawArg, 2, fn, at);
      const items = expectArray(resolveValue(list, scope, at), undefined, fn, at);
      return items.map((item) => asText(item, fn, at)).join(asText(delimiter, fn, at));
    }
    case 'Fn::Sub':
      return resolveSub(rawArg, scope, at);
    case 'Fn::Select': {
      const [index, list] = expectArray(resolveValue(rawArg, scope, at), 2, fn, at);
      const items = expectArray(list, undefined, fn, at);
      const i = Number(index);
      if (!Number.isInteger(i) || i < 0 || i >= items.length) {
        throw new TemplateError(`Fn::Select at ${at}: index ${String(index)} is out of range (${items.length} items)`);
      }
      return items[i];
    }
    case 'Fn::Split': {
      const [delimiter, source] = expectArray(resolveValue(rawArg, scope, at), 2, fn, at);
      return asText(source, fn, at).split(asText(delimiter, fn, at));
    }
    case 'Fn::Equals': {
      const [a, b] = expectArray(resolveValue(rawArg, scope, at), 2, fn, at);
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::Or':
      return expectArray(rawArg, undefined, fn, at).some((operand) => asBoolean(resolveValue(operand, scope, at), fn, at));
    case 'Fn::And':
      return expectArray(rawArg, undefined, fn, at).every((operand) => asBoolean(resolveValue(operand, scope, at), fn, at));
    case 'Fn::Not': {
      const [operand] = expectArray(rawArg, 1, fn, at);
      return !asBoolean(resolveValue(operand, scope, at), fn, at);
    }
    case 'Condition':
      return scope.condition(asText(rawArg, fn, at), at);
    case 'Fn::If': {
      // Only the branch taken is resolved: the other may name a resource its condition left out.
      const [name, whenTrue, whenFalse] = expectArray(rawArg, 3, fn, at);
      const taken = scope.condition(asText(name, fn, at), at) ? whenTrue : whenFalse;
      return resolveValue(taken, scope, at);
    }
    case 'Fn::ImportValue':
      return scope.importValue(asText(resolveValue(rawArg, scope, at), fn, at), at);
    default:
      throw new UnknownIntrinsicError(fn, at);
  }
}

/** Evaluates a template Conditions entry (the value itself, not a reference to it). */
export function evaluateCondition(definition: unknown, scope: ResolveScope, at: string): boolean {
  return asBoolean(resolveValue(definition, scope, at), 'Conditions', at);
}
