/** Dependency ordering of a stack's resources (Ref/GetAtt/DependsOn). */
import { TemplateError } from './errors.js';

/**
 * Kahn's algorithm, stable: among nodes whose dependencies are satisfied, the one
 * listed first comes first, so a template deploys in its own order where it can.
 * Dependencies on ids outside `nodes` are ignored (parameters, pseudo parameters):
 * resolving those is someone else's error to report.
 *
 * O((nodes + edges) · log nodes): in-degree counts, dependents lists, and a min-heap of
 * the ready nodes' positions (a plain FIFO queue would lose the template's own order).
 * It runs on the event loop every service shares, so it must not be quadratic.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependenciesOf: (node: string) => Iterable<string>,
  what: string,
): string[] {
  const position = new Map<string, number>();
  nodes.forEach((node, index) => position.set(node, index));
  const inDegree = new Array<number>(nodes.length).fill(0);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((node, index) => {
    for (const dependency of new Set(dependenciesOf(node))) {
      const from = position.get(dependency);
      if (from === undefined || from === index) continue;
      dependents[from].push(index);
      inDegree[index]++;
    }
  });
  const ready = new MinHeap();
  inDegree.forEach((count, index) => {
    if (count === 0) ready.push(index);
  });
  const ordered: string[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    ordered.push(nodes[next]);
    for (const dependent of dependents[next]) {
      if (--inDegree[dependent] === 0) ready.push(dependent);
    }
  }
  if (ordered.length < nodes.length) {
    const stuck = nodes.filter((_node, index) => inDegree[index] > 0);
    throw new TemplateError(`Circular dependency between ${what}: ${stuck.join(', ')}`);
  }
  return ordered;
}

/** Binary min-heap of non-negative integers. */
class MinHeap {
  private readonly items: number[] = [];

  push(value: number): void {
    const { items } = this;
    let at = items.push(value) - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent] <= value) break;
      items[at] = items[parent];
      at = parent;
    }
    items[at] = value;
  }

  pop(): number | undefined {
    const { items } = this;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= items.length) break;
      const child = left + 1 < items.length && items[left + 1] < items[left] ? left + 1 : left;
      if (items[child] >= last) break;
      items[at] = items[child];
      at = child;
    }
    items[at] = last;
    return top;
  }
}
