/**
 * A client may name itself by prefixing its endpoint's path with `/_localcloud/from/<caller>`
 * (the Lambda runtime does so for each function's DynamoDB calls): the edge strips the
 * prefix and shares DynamoDB fairly between callers. Unnamed clients share one caller.
 */
export const CALLER_PREFIX = '/_localcloud/from/';
const UNNAMED_CALLER = 'clients';

/** `endpoint` for a client that names itself `caller` to the edge. */
export function callerEndpoint(endpoint: string, caller: string): string {
  return `${endpoint.replace(/\/+$/, '')}${CALLER_PREFIX}${encodeURIComponent(caller)}`;
}

/** The caller a request names, and its URL without the prefix. */
export function callerOf(url: string): { caller: string; url: string } {
  if (!url.startsWith(CALLER_PREFIX)) return { caller: UNNAMED_CALLER, url };
  const rest = url.slice(CALLER_PREFIX.length);
  const end = rest.search(/[/?]/);
  const name = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '/' : rest.slice(end);
  return { caller: decodeURIComponent(name), url: tail.startsWith('/') ? tail : `/${tail}` };
}
