import { describe, expect, it } from 'vitest';
import { classifyBatchResult } from '../../../esm/batch-response.js';
import type { InvokeResult } from '../../../types.js';

const ok = (payload: unknown): InvokeResult => ({ requestId: 'r', payload, logs: '', durationMs: 1 });
const ids = ['1', '2', '3'];

describe('classifyBatchResult', () => {
  it('fails on a function error, whatever the response type', () => {
    const error: InvokeResult = { requestId: 'r', error: { errorType: 'Boom', errorMessage: 'no' }, logs: '', durationMs: 1 };
    expect(classifyBatchResult(error, true, ids)).toEqual({ kind: 'failed', reason: 'Boom: no' });
  });

  it('ignores the payload without ReportBatchItemFailures', () => {
    expect(classifyBatchResult(ok({ batchItemFailures: [{ itemIdentifier: 'x' }] }), false, ids)).toEqual({ kind: 'success' });
  });

  it.each([[null], [undefined], [{}], [{ batchItemFailures: null }], [{ batchItemFailures: [] }], ['done']])(
    'treats %j as complete success',
    (payload) => {
      expect(classifyBatchResult(ok(payload), true, ids)).toEqual({ kind: 'success' });
    },
  );

  it('reports the failed items of a partial response', () => {
    const result = ok({ batchItemFailures: [{ itemIdentifier: '3' }, { itemIdentifier: '2' }] });
    expect(classifyBatchResult(result, true, ids)).toEqual({ kind: 'partial', failedIds: ['3', '2'] });
  });

  it.each([
    [{ batchItemFailures: [{ itemIdentifier: 'nope' }] }],
    [{ batchItemFailures: [{ itemIdentifier: '' }] }],
    [{ batchItemFailures: [{ itemIdentifier: null }] }],
    [{ batchItemFailures: [{ id: '1' }] }],
    [{ batchItemFailures: 'all' }],
  ])('treats the invalid response %j as a failure of the whole batch', (payload) => {
    expect(classifyBatchResult(ok(payload), true, ids).kind).toBe('failed');
  });
});
