/**
 * Typed reads of resolved resource properties. CloudFormation is lenient about
 * scalars ("10" and 10, "true" and true are both fine), so these accept both and
 * name the resource and property when the value is unusable.
 */
import { isRecord } from '../../shared/guards.js';
import { TemplateError } from './errors.js';

export class PropertyReader {
  constructor(
    private readonly props: Record<string, unknown>,
    /** e.g. "AWS::SQS::Queue Work in stack S" */
    private readonly where: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new TemplateError(`${this.where}: property ${key} must be ${expected}, got ${JSON.stringify(this.props[key])}`);
  }

  has(key: string): boolean {
    return this.props[key] !== undefined;
  }

  optString(key: string): string | undefined {
    const value = this.props[key];
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.fail(key, 'a string');
  }

  string(key: string): string {
    return this.optString(key) ?? this.fail(key, 'a string');
  }

  optNumber(key: string): number | undefined {
    const value = this.props[key];
    if (value === undefined) return undefined;
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    return typeof number === 'number' && Number.isFinite(number) ? number : this.fail(key, 'a number');
  }

  optBoolean(key: string): boolean | undefined {
    const value = this.props[key];
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    return this.fail(key, 'a boolean');
  }

  /** One of a fixed set of strings (an SDK enum), e.g. KeyType HASH | RANGE. */
  optEnum<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.optString(key);
    if (value === undefined) return undefined;
    const match = allowed.find((candidate) => candidate === value);
    return match ?? this.fail(key, `one of ${allowed.join(', ')}`);
  }

  enumValue<T extends string>(key: string, allowed: readonly T[]): T {
    return this.optEnum(key, allowed) ?? this.fail(key, `one of ${allowed.join(', ')}`);
  }

  optObject(key: string): PropertyReader | undefined {
    const value = this.props[key];
    if (value === undefined) return undefined;
    return isRecord(value) ? new PropertyReader(value, `${this.where}, ${key}`) : this.fail(key, 'an object');
  }

  /** Objects of a list property, each wrapped for further typed reads. */
  objectList(key: string): PropertyReader[] {
    const value = this.props[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) return this.fail(key, 'a list');
    return value.map((item, i) =>
      isRecord(item) ? new PropertyReader(item, `${this.where}, ${key}[${i}]`) : this.fail(key, 'a list of objects'),
    );
  }

  stringList(key: string): string[] {
    const value = this.props[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
      return this.fail(key, 'a list of strings');
    }
    return value;
  }

  /** A string → string map; scalars are stringified (environment variables, queue attributes). */
  stringMap(key: string): Record<string, string> {
    const value = this.props[key];
    if (value === undefined) return {};
    if (!isRecord(value)) return this.fail(key, 'an object');
    const out: Record<string, string> = {};
    for (const [name, item] of Object.entries(value)) {
      if (typeof item === 'object' && item !== null) this.fail(`${key}.${name}`, 'a scalar');
      out[name] = String(item);
    }
    return out;
  }

  raw(key: string): unknown {
    return this.props[key];
  }
}
