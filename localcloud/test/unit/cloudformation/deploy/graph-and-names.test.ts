import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../../cloudformation/deploy/errors.js';
import { topologicalOrder } from '../../../../cloudformation/deploy/graph.js';
import { physicalName } from '../../../../cloudformation/deploy/physical-name.js';
import { deterministicUuid } from '../../../../shared/ids.js';

/** The definition of the order, step by step: of the nodes whose dependencies are all placed, the first listed. */
function firstReadyFirst(nodes: string[], deps: (node: string) => string[]): string[] {
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < nodes.length) {
    const next = nodes.find((node) => !placed.has(node) && deps(node).every((dep) => placed.has(dep)));
    if (next === undefined) throw new Error('cycle');
    placed.add(next);
    order.push(next);
  }
  return order;
}

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

  it('takes the first listed of the ready nodes, even one that became ready after later-listed ones', () => {
    const deps: Record<string, string[]> = { A: ['B'], B: [], C: [] };
    expect(topologicalOrder(['A', 'B', 'C'], (n) => deps[n], 'resources')).toEqual(['B', 'A', 'C']);
  });

  it('orders a layered graph: every node after all its dependencies, the first listed of the ready nodes first', () => {
    // Node i depends on i - 7 and i - 13 (when they exist), listed backwards: the order must come from the edges.
    const count = 600;
    const name = (i: number) => `R${i}`;
    const nodes = Array.from({ length: count }, (_, i) => name(count - 1 - i));
    const deps = (node: string) => [7, 13].map((step) => Number(node.slice(1)) - step).filter((i) => i >= 0).map(name);
    const order = topologicalOrder(nodes, deps, 'resources');
    const at = new Map(order.map((node, index) => [node, index]));
    expect(at.size).toBe(count);
    for (const node of nodes) for (const dep of deps(node)) expect(at.get(dep)).toBeLessThan(at.get(node) ?? -1);
    expect(order).toEqual(firstReadyFirst(nodes, deps));
  });

  it('reads each node a bounded number of times, not once per step (the sort runs on the shared event loop)', () => {
    const count = 1000;
    const names = Array.from({ length: count }, (_, i) => `R${i}`);
    let reads = 0;
    const nodes = new Proxy(names, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    let lookups = 0;
    const order = topologicalOrder(nodes, (node) => {
      lookups++;
      const i = Number(node.slice(1));
      return i > 0 ? [`R${i - 1}`] : [];
    }, 'resources');
    expect(order).toEqual(names);
    expect(lookups).toBe(count);
    expect(reads).toBeLessThanOrEqual(10 * count);
  });

  it('names the nodes of a cycle', () => {
    expect(() => topologicalOrder(['A', 'B', 'C'], (n) => ({ A: ['B'], B: ['A'], C: [] })[n] ?? [], 'things')).toThrow(
      new TemplateError('Circular dependency between things: A, B'),
    );
  });

  it('names the nodes of a cycle and those waiting on it, in the given order, after ordering the rest', () => {
    const deps: Record<string, string[]> = { Q: [], X: ['Z'], Y: ['X', 'Q'], Z: ['Y'], W: ['Z'], V: ['Q'] };
    expect(() => topologicalOrder(['Q', 'X', 'Y', 'Z', 'W', 'V'], (n) => deps[n], 'things')).toThrow(
      new TemplateError('Circular dependency between things: X, Y, Z, W'),
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
