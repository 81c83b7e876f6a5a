/**
 * Plain HTTP calls to the services behind the edge that this project has no SDK client
 * for (S3 objects and buckets, SSM parameters): the few calls the CloudFormation service
 * makes need no more. moto checks no signature, but it picks the service and region from
 * the SigV4 credential scope, so the request names them there.
 */

export interface RawAwsRequest {
  service: string;
  region: string;
  method: string;
  /** Path and query, e.g. `/bucket/key`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawAwsResponse {
  status: number;
  body: Buffer;
}

export class RawAwsError extends Error {
  override readonly name = 'RawAwsError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function rawAwsRequest(endpoint: string, request: RawAwsRequest): Promise<RawAwsResponse> {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const response = await fetch(new URL(request.path, endpoint), {
    method: request.method,
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=localcloud/${date}/${request.region}/${request.service}/aws4_request, SignedHeaders=host, Signature=0`,
      ...request.headers,
    },
    body: request.body,
  });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

/** An error's code from a JSON (`__type`) or XML (`<Code>`) error body. */
export function errorCodeOf(body: Buffer): string {
  const text = body.toString('utf8');
  const xml = /<Code>([^<]+)<\/Code>/.exec(text);
  if (xml) return xml[1];
  try {
    const parsed = JSON.parse(text) as { __type?: string };
    return (parsed.__type ?? 'UnknownError').split('#').pop() ?? 'UnknownError';
  } catch {
    return 'UnknownError';
  }
}

/** A JSON 1.1 call (SSM): the result, or a RawAwsError with the service's code. */
export async function jsonCall(endpoint: string, region: string, target: string, input: unknown): Promise<unknown> {
  const [prefix] = target.split('.');
  const service = prefix === 'AmazonSSM' ? 'ssm' : prefix.toLowerCase();
  const response = await rawAwsRequest(endpoint, {
    service,
    region,
    method: 'POST',
    path: '/',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(input),
  });
  if (response.status >= 300) {
    throw new RawAwsError(response.status, errorCodeOf(response.body), `${target}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
  }
  return JSON.parse(response.body.toString('utf8') || '{}') as unknown;
}
