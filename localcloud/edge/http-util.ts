/** Small HTTP helpers shared by the edge and the Lambda API it serves. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`request body larger than ${limitBytes} bytes`);
  }
}

/** Reads the whole request body, refusing (but still draining) one above `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limitBytes) chunks.push(chunk);
  }
  if (size > limitBytes) throw new BodyTooLargeError(limitBytes);
  return Buffer.concat(chunks, size);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBytes(res, status, JSON.stringify(body), headers);
}

export function sendBytes(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * An AWS REST-JSON error: the SDKs (v3 and botocore) read the code from `x-amzn-errortype`
 * and the message from the body. Lambda spells the message field both ways across its
 * error shapes (ResourceNotFoundException: "Message", others: "message"), so both are sent.
 */
export function sendAwsError(
  res: ServerResponse,
  status: number,
  errorType: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const type = status >= 500 ? 'Service' : 'User';
  sendJson(res, status, { Type: type, message, Message: message }, { 'x-amzn-errortype': errorType, ...headers });
}

/**
 * A refusal by the edge itself, readable by every JSON protocol's SDK: `__type` for JSON
 * 1.0/1.1 (DynamoDB, SQS, Logs), `x-amzn-errortype` for REST-JSON (Lambda).
 */
export function sendRefusal(res: ServerResponse, status: number, errorType: string, message: string): void {
  sendJson(res, status, { __type: errorType, message }, { 'x-amzn-errortype': errorType, 'X-Content-Type-Options': 'nosniff' });
}
