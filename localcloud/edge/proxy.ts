/**
 * Forwards a request to the upstream AWS emulator (moto) unchanged: method, path and
 * query, headers (Host included: moto builds queue URLs and the like from it, so they
 * point back at the edge) and the body, streamed both ways.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { sendAwsError } from './http-util.js';

/**
 * Connection-level headers belong to each hop, not to the message (RFC 9110 §7.6.1).
 * `expect` is answered by the edge's own server, so forwarding it would ask twice.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** rawHeaders keep the client's spelling and order; only hop-by-hop pairs are dropped. */
function endToEndHeaders(rawHeaders: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase())) kept.push(name, rawHeaders[i + 1] ?? '');
  }
  return kept;
}

export interface ProxyTap {
  body?: Buffer;
  /** Sees the whole answer before the caller does: the answer waits for it to settle. */
  onAnswer?: (status: number, answer: Buffer) => Promise<void>;
}

function withContentLength(rawHeaders: string[], length: number): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() !== 'content-length') kept.push(rawHeaders[i] ?? '', rawHeaders[i + 1] ?? '');
  }
  return [...kept, 'content-length', String(length)];
}

/** Reads the whole answer, lets `onAnswer` see it, then calls `then` with it (whatever `onAnswer` made of it). */
function collectAnswer(upstreamRes: IncomingMessage, onAnswer: (status: number, answer: Buffer) => Promise<void>, then: (answer: Buffer) => void): void {
  const chunks: Buffer[] = [];
  upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstreamRes.on('end', () => {
    const answer = Buffer.concat(chunks);
    void onAnswer(upstreamRes.statusCode ?? 502, answer)
      .catch(() => undefined)
      .then(() => then(answer));
  });
}

export class UpstreamProxy {
  private readonly upstream: URL;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(upstreamUrl: string) {
    this.upstream = new URL(upstreamUrl);
  }

  /**
   * `replaceAnswer`: the upstream's answer is read and dropped, and this answers instead (a fault after the upstream acted).
   * `tap.body` replaces the request's body (already read); `tap.onAnswer` gets the upstream's whole answer once it is in.
   */
  forward(req: IncomingMessage, res: ServerResponse, replaceAnswer?: () => void, tap?: ProxyTap): void {
    const headers = tap?.body ? withContentLength(endToEndHeaders(req.rawHeaders), tap.body.length) : endToEndHeaders(req.rawHeaders);
    const upstreamReq = http.request(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (upstreamRes) => {
        if (tap?.onAnswer) {
          upstreamRes.on('error', () => res.destroy());
          collectAnswer(upstreamRes, tap.onAnswer, (answer) => {
            if (replaceAnswer) return replaceAnswer();
            res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.rawHeaders));
            res.end(answer);
          });
          return;
        }
        if (replaceAnswer) {
          upstreamRes.resume();
          upstreamRes.on('end', replaceAnswer);
          upstreamRes.on('error', () => res.destroy());
          return;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.rawHeaders));
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else sendAwsError(res, 502, 'ServiceUnavailableException', `upstream ${this.upstream.origin} failed: ${error.message}`);
    });
    // A client that goes away mid-request should not leave the upstream call running.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    if (tap?.body) upstreamReq.end(tap.body);
    else req.pipe(upstreamReq);
  }

  close(): void {
    this.agent.destroy();
  }
}
