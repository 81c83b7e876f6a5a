import { describe, expect, it } from 'vitest';
import { InvocationLog, logTail, reportLine } from '../../../lambda/invocation-logs.js';

describe('lambda logs', () => {
  it('keeps the last 4 KB of the log, counted in bytes', () => {
    const log = `${'a'.repeat(5000)}é-end`;

    const tail = Buffer.from(logTail(log), 'base64');

    expect(tail.length).toBe(4096);
    expect(tail.toString('utf8').endsWith('é-end')).toBe(true);
    expect(Buffer.from(logTail('short'), 'base64').toString()).toBe('short');
  });

  it('echoes whole lines only, however the output was chunked', () => {
    const echoed: string[] = [];
    const log = new InvocationLog((line) => echoed.push(line));

    log.append('par');
    log.append('tial\nsecond line\nthi');
    log.line('rd');
    log.append('no newline');
    expect(echoed).toEqual(['partial', 'second line', 'third']);
    log.close();

    expect(echoed).toEqual(['partial', 'second line', 'third', 'no newline']);
    expect(log.text()).toBe('partial\nsecond line\nthird\nno newline');
  });

  it('writes REPORT lines like Lambda', () => {
    expect(reportLine('id-1', { durationMs: 12.345, memorySizeMb: 128, memoryUsedMb: 9, initDurationMs: 55.5 })).toBe(
      'REPORT RequestId: id-1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\tInit Duration: 55.50 ms',
    );
  });
});
