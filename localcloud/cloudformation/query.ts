/**
 * The AWS Query protocol as CloudFormation speaks it: form-encoded requests
 * (`Action=CreateStack&Parameters.member.1.ParameterKey=...`) and XML responses in the
 * 2010-05-15 namespace, errors as `<ErrorResponse>` with a code the SDKs map to exceptions.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** A client error CloudFormation would answer with (HTTP 400 unless said otherwise). */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const validationError = (message: string): QueryError => new QueryError('ValidationError', message);

/** The decoded form of one request. */
export class QueryInput {
  constructor(private readonly form: URLSearchParams) {}

  static parse(body: string): QueryInput {
    return new QueryInput(new URLSearchParams(body));
  }

  get action(): string {
    return this.form.get('Action') ?? '';
  }

  optString(name: string): string | undefined {
    const value = this.form.get(name);
    return value === null ? undefined : value;
  }

  string(name: string): string {
    const value = this.optString(name);
    if (value === undefined || value === '') throw validationError(`1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
    return value;
  }

  optBoolean(name: string): boolean | undefined {
    const value = this.optString(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw validationError(`${name} must be true or false, got "${value}"`);
    return value === 'true';
  }

  /** `Name.member.1`, `Name.member.2`... */
  stringList(name: string): string[] {
    const out: string[] = [];
    for (let i = 1; this.form.has(`${name}.member.${i}`); i++) out.push(this.form.get(`${name}.member.${i}`) ?? '');
    return out;
  }

  /** `Name.member.1.Field`...: one record per member, with the fields present. */
  structList(name: string): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (let i = 1; ; i++) {
      const prefix = `${name}.member.${i}.`;
      const entry: Record<string, string> = {};
      for (const [key, value] of this.form) if (key.startsWith(prefix)) entry[key.slice(prefix.length)] = value;
      if (Object.keys(entry).length === 0) return out;
      out.push(entry);
    }
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** Objects become elements, arrays `<member>` lists, dates ISO-8601; undefined fields are left out. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${toXml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .map(([key, child]) => `<${key}>${toXml(child)}</${key}>`)
      .join('');
  }
  return escapeXml(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendResult(res: ServerResponse, action: string, result: Record<string, unknown> | undefined): void {
  const inner = result === undefined ? '' : `<${action}Result>${toXml(result)}</${action}Result>`;
  send(
    res,
    200,
    `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${NAMESPACE}">${inner}` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

export function sendQueryError(res: ServerResponse, error: QueryError): void {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  send(
    res,
    error.status,
    `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type>` +
      `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}
