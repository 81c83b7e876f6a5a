import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../tools/synth.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('web/', () => {
  it('reaches the cluster only through client/: no functions/ or localcloud/ imports, no table access', () => {
    const offenders = sources(join(repoRoot, 'web')).flatMap((file) => {
      const imports = [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((match) => match[1]);
      return imports.filter((name) => /(^|\/)(functions|localcloud|infra)\/|client-dynamodb|lib-dynamodb/.test(name)).map((name) => `${relative(repoRoot, file)}: ${name}`);
    });
    expect(offenders).toEqual([]);
  });
});
