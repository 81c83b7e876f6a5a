/** Dependency ordering of a stack's resources (Ref/GetAtt/DependsOn). */
import { TemplateError } from './errors.js';

/**
 * Kahn's algorithm, stable: among nodes whose dependencies are satisfied, the one
 * listed first comes first, so a template deploys in its own order where it can.
 * Dependencies on ids outside `nodes` are ignored (parameters, pseudo parameters):
 * resolving those is someone else's error to report.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependenciesOf: (node: string) => Iterable<string>,
  what: string,
): string[] {
  const known = new Set(nodes);
  const remaining = new Map<string, Set<string>>();
  for (const node of nodes) {
    const deps = new Set([...dependenciesOf(node)].filter((d) => known.has(d) && d !== node));
    remaining.set(node, deps);
  }
  const ordered: string[] = [];
  while (remaining.size > 0) {
    const ready = nodes.find((n) => remaining.get(n)?.size === 0);
    if (ready === undefined) {
      throw new TemplateError(`Circular dependency between ${what}: ${[...remaining.keys()].join(', ')}`);
    }
    ordered.push(ready);
    remaining.delete(ready);
    for (const deps of remaining.values()) deps.delete(ready);
  }
  return ordered;
}
