import { describe, expect, it } from 'vitest';
import { isDynamoDbRequest } from '../../../edge/edge.js';
import { FairShare } from '../../../edge/fair-share.js';
import { callerEndpoint, callerOf } from '../../../shared/caller.js';

describe('FairShare', () => {
  /** Submits a request that stays in flight until its `finish` is called. */
  function submitter(share: FairShare, started: string[]) {
    const finishers = new Map<string, () => void>();
    const submit = (caller: string, id: string) =>
      share.submit(caller, (done) => {
        started.push(id);
        finishers.set(id, done);
      });
    return { submit, finish: (id: string) => finishers.get(id)?.() };
  }

  it('runs at most maxInFlight at once; a light caller waits for the request in flight, not for a heavy caller\'s backlog', () => {
    const started: string[] = [];
    const share = new FairShare(1);
    const { submit, finish } = submitter(share, started);
    submit('produce', 'p0');
    for (let i = 1; i <= 4; i += 1) submit('produce', `p${i}`);
    submit('heartbeat', 'h0');
    submit('heartbeat', 'h1');
    expect(started).toEqual(['p0']);
    expect(share.waiting).toBe(6);

    for (const id of ['p0', 'h0', 'p1', 'h1', 'p2', 'p3']) finish(id);

    // Each caller in FIFO order; the heartbeats shared the turns from their arrival on.
    expect(started).toEqual(['p0', 'h0', 'p1', 'h1', 'p2', 'p3', 'p4']);
    expect(share.waiting).toBe(0);
  });

  it('gives a caller back from idle no banked credit', () => {
    const started: string[] = [];
    const share = new FairShare(1);
    const { submit, finish } = submitter(share, started);
    submit('a', 'a0');
    finish('a0');
    for (let i = 1; i <= 3; i += 1) submit('a', `a${i}`); // a1 runs, a2 a3 wait
    submit('b', 'b0');
    submit('b', 'b1');
    for (const id of ['a1', 'b0', 'a2', 'b1']) finish(id);
    expect(started).toEqual(['a0', 'a1', 'b0', 'a2', 'b1', 'a3']);
  });

  it('drops a request abandoned while waiting, and ignores a second done()', () => {
    const started: string[] = [];
    const share = new FairShare(1);
    const { submit, finish } = submitter(share, started);
    submit('a', 'a0');
    const cancel = submit('b', 'b0');
    submit('c', 'c0');
    cancel();
    finish('a0');
    finish('a0');
    expect(started).toEqual(['a0', 'c0']);
  });

  it('sums per caller the requests served, the time they queued and the time they were served', () => {
    let now = 0;
    const started: string[] = [];
    const share = new FairShare(1, () => now);
    const { submit, finish } = submitter(share, started);
    submit('produce', 'p0'); // at 0, starts at once
    submit('consume', 'c0'); // at 0, waits for p0
    now = 4;
    finish('p0'); // p0 served 4 ms; c0 starts after waiting 4 ms
    submit('produce', 'p1'); // at 4, waits for c0
    now = 7;
    finish('c0'); // c0 served 3 ms; p1 starts after waiting 3 ms
    const cancel = submit('produce', 'p2'); // abandoned while it waits: not counted
    cancel();
    now = 12;
    finish('p1');
    expect(share.stats()).toEqual({
      produce: { requests: 2, waitMs: 3, serveMs: 9, maxWaitMs: 3 },
      consume: { requests: 1, waitMs: 4, serveMs: 3, maxWaitMs: 4 },
    });
    // A copy: later requests do not change a snapshot taken before them.
    const snapshot = share.stats();
    submit('consume', 'c1');
    finish('c1');
    expect(snapshot.consume.requests).toBe(1);
    expect(share.stats().consume.requests).toBe(2);
  });
});

describe('routing by service and caller', () => {
  it('recognizes DynamoDB and DynamoDB Streams by X-Amz-Target, else by the SigV4 scope', () => {
    expect(isDynamoDbRequest({ 'x-amz-target': 'DynamoDB_20120810.PutItem' })).toBe(true);
    expect(isDynamoDbRequest({ 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords' })).toBe(true);
    expect(isDynamoDbRequest({ 'x-amz-target': 'AmazonSQS.SendMessage' })).toBe(false);
    const scope = (service: string) => `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;
    expect(isDynamoDbRequest({ authorization: scope('dynamodb') })).toBe(true);
    expect(isDynamoDbRequest({ authorization: scope('sqs') })).toBe(false);
    expect(isDynamoDbRequest({})).toBe(false);
  });

  it('strips a caller prefix and names the caller; unnamed requests share one caller', () => {
    const endpoint = callerEndpoint('http://127.0.0.1:4566/', 'lambda:my fn');
    const prefix = new URL(endpoint).pathname;
    expect(callerOf(`${prefix}/`)).toEqual({ caller: 'lambda:my fn', url: '/' });
    expect(callerOf(`${prefix}/2015-03-31/functions?x=1`)).toEqual({ caller: 'lambda:my fn', url: '/2015-03-31/functions?x=1' });
    expect(callerOf(`${prefix}?x=1`)).toEqual({ caller: 'lambda:my fn', url: '/?x=1' });
    expect(callerOf('/queue/1')).toEqual({ caller: 'clients', url: '/queue/1' });
  });
});
