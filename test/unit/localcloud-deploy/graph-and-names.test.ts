import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../localcloud/deploy/errors.js';
import { topologicalOrder } from '../../../localcloud/deploy/graph.js';
import { physicalName } from '../../../localcloud/deploy/physical-name.js';
import { deterministicUuid } from '../../../localcloud/shared/ids.js';

describe('topologicalOrder', () => {
  it('puts dependencies first and otherwise keeps the given order', () => {
    const deps: Record<string, string[]> = { Fn: ['Role', 'Table'], Esm: ['Fn', 'Table'], Role: [], Table: ['AWS::Region'] };
    expect(topologicalOrder(['Esm', 'Fn', 'Role', 'Table'], (n) => deps[n], 'resources')).toEqual([
      'Role',
      'Table',
      'Fn',
      'Esm',
    ]);
  });

  it('names the nodes of a cycle', () => {
    expect(() => topologicalOrder(['A', 'B', 'C'], (n) => ({ A: ['B'], B: ['A'], C: [] })[n] ?? [], 'things')).toThrow(
      new TemplateError('Circular dependency between things: A, B'),
    );
  });
});

describe('deterministic names', () => {
  it('derives short names from stack and logical id', () => {
    expect(physicalName('Stack', 'Queue1234', 80)).toBe('Stack-Queue1234');
    expect(physicalName('Stack', 'Queue1234', 80, '.fifo')).toBe('Stack-Queue1234.fifo');
  });

  it('trims long names to the limit, keeping them distinct and stable', () => {
    const a = physicalName('AVeryLongStackNameForTesting', 'AnEvenLongerLogicalIdOfSomeFunctionABCDEF12', 64);
    const b = physicalName('AVeryLongStackNameForTesting', 'AnEvenLongerLogicalIdOfSomeFunctionABCDEF13', 64);
    expect(a).toHaveLength(64);
    expect(a).not.toBe(b);
    expect(physicalName('AVeryLongStackNameForTesting', 'AnEvenLongerLogicalIdOfSomeFunctionABCDEF12', 64)).toBe(a);
  });

  it('derives UUID-shaped mapping ids', () => {
    expect(deterministicUuid('S/Esm')).toBe(deterministicUuid('S/Esm'));
    expect(deterministicUuid('S/Esm')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicUuid('S/Other')).not.toBe(deterministicUuid('S/Esm'));
  });
});
