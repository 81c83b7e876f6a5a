/**
 * Who may use the console. Its actions kill brokers and write records, and its state is the
 * cluster's, so only its own page may reach it: any other web page the developer has open
 * could otherwise post to it (CSRF: a text/plain or form POST needs no preflight) or, through
 * a DNS name rebound to loopback, read it as if same-origin.
 *
 * - Host must name the console (loopback mode): a rebinding page's requests carry its own name.
 * - Origin, when a browser sends one, must be the console's own.
 * - POSTs must be application/json, which a foreign page can only send after a CORS
 *   preflight, which the console never grants.
 * - POSTs carry the per-start token that only the served page knows (X-Console-Token).
 * - Off loopback (--console-allow-remote), every request carries the token: in the header, or
 *   in the cookie that opening the printed `?token=` URL sets, since the console's names on
 *   a network (an address, a host name, a tunnel) are not known and Host proves nothing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export const TOKEN_HEADER = 'x-console-token';
/** The console's forms send a few hundred bytes; nothing legitimate comes near this. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A request the console will not serve (403). */
export class ForbiddenRequestError extends Error {
  override readonly name = 'ForbiddenRequestError';
}

/** A body over MAX_BODY_BYTES (413); the rest of it is not read. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`the request body is larger than ${limit} bytes (${limit / 1024 / 1024} MiB), the console's limit`);
  }
}

/** A non-loopback --console-host without the explicit --console-allow-remote. */
export class RemoteConsoleRefusedError extends Error {
  override readonly name = 'RemoteConsoleRefusedError';
  constructor(readonly host: string) {
    super(
      `--console-host ${host} is not a loopback address: anyone who can reach it could kill brokers and write records. ` +
        'Pass --console-allow-remote as well to serve it anyway (every request then needs the token printed at start).',
    );
  }
}

export function newConsoleToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

export interface GuardOptions {
  /** The address the console listens on, as given (`127.0.0.1`, `localhost`, `::1`, `0.0.0.0`). */
  host: string;
  port: number;
  token: string;
}

export class RequestGuard {
  readonly remote: boolean;
  readonly cookieName: string;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly token: Buffer;

  constructor(private readonly options: GuardOptions) {
    this.remote = !isLoopbackHost(options.host);
    this.token = Buffer.from(options.token);
    // Cookies are not kept apart by port: two consoles on one machine need two names.
    this.cookieName = `console-token-${options.port}`;
    const bound = options.host.toLowerCase();
    const names = new Set(['localhost', bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound]);
    if (bound === 'localhost') ['127.0.0.1', '[::1]'].forEach((name) => names.add(name));
    const hosts = new Set<string>();
    for (const name of names) {
      hosts.add(`${name}:${options.port}`);
      if (options.port === 80) hosts.add(name);
    }
    this.allowedHosts = hosts;
  }

  /**
   * Throws ForbiddenRequestError unless the request may be served. `tokenFromQuery`: the
   * request proved the token with `?token=` (off loopback), so the page's answer sets the cookie.
   */
  check(request: Pick<IncomingMessage, 'method' | 'headers' | 'url'>): { tokenFromQuery: boolean } {
    const headers = request.headers;
    const host = (headers.host ?? '').toLowerCase();
    if (!this.remote && !this.allowedHosts.has(host)) {
      throw new ForbiddenRequestError(
        `the Host header ${JSON.stringify(headers.host ?? '')} is not this console's address (${[...this.allowedHosts].join(' or ')}): ` +
          'a page that reached it through another name (DNS rebinding) may not use it',
      );
    }
    const origin = headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) {
      throw new ForbiddenRequestError(`a request from ${JSON.stringify(origin)} may not use the console at http://${host}: only the console's own page may`);
    }
    let tokenFromQuery = false;
    if (this.remote) {
      const queryToken = request.method === 'GET' ? new URL(request.url ?? '/', 'http://console').searchParams.get('token') : null;
      tokenFromQuery = queryToken !== null && this.matches(queryToken);
      if (!tokenFromQuery && !this.matches(headerValue(headers, TOKEN_HEADER)) && !this.matches(cookieValue(headers, this.cookieName))) {
        throw new ForbiddenRequestError("this console listens off loopback and needs its token: open the URL with ?token= that npm start printed");
      }
    }
    if (request.method === 'POST') {
      const mediaType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (mediaType !== 'application/json') {
        throw new ForbiddenRequestError(`actions take Content-Type: application/json, got ${JSON.stringify(headers['content-type'] ?? '(none)')}`);
      }
      const token = headerValue(headers, TOKEN_HEADER);
      if (!this.matches(token)) {
        throw new ForbiddenRequestError(`actions need the console's token in the X-Console-Token header (its page sends it); it was ${token === undefined ? 'missing' : 'wrong'}`);
      }
    }
    return { tokenFromQuery };
  }

  /** The cookie that lets the page's own requests (script, stream, images) through off loopback. */
  cookie(): string {
    return `${this.cookieName}=${this.options.token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  private matches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    const given = Buffer.from(candidate);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * The body, at most `limit` bytes. A larger one is refused from its Content-Length before
 * any of it is read, or as soon as the bytes read pass the limit; the rest is never buffered
 * (the stream is paused and the caller answers with Connection: close).
 */
export function readBodyCapped(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        request.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}
