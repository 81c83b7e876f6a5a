/**
 * The import directions of docs/architecture.md are lint errors: each planted violation
 * below goes through the project's own eslint.config.js and must come back as an error of
 * the boundary rule. The type-aware rules are switched off, so the planted files need not
 * exist and the run takes a moment instead of building the whole program.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../../../tools/synth.js';

const RULE = 'architecture/import-boundaries';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: repoRoot, overrideConfig: tseslint.configs.disableTypeChecked });
});

/** The boundary errors ESLint reports for `code` as if it were the file at `filePath`. */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const fatal = result.messages.filter((message) => message.fatal);
  expect(fatal, `${filePath} should parse`).toEqual([]);
  return result.messages.filter((message) => message.ruleId === RULE && message.severity === 2).map((message) => message.message);
}

describe('the boundary rule flags a planted violation', () => {
  test.each([
    {
      name: 'the domain importing the DynamoDB client',
      filePath: 'functions/domain/planted.ts',
      code: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const client = new DynamoDBClient({});\n",
      error: /functions\/domain\/planted\.ts may not import @aws-sdk\/client-dynamodb: the domain is pure rules/,
    },
    {
      name: 'the domain importing an adapter',
      filePath: 'functions/domain/planted.ts',
      code: "export * from '../adapters/memory/index.js';\n",
      error: /may not import functions\/adapters\/memory\/index: the domain/,
    },
    {
      name: 'the domain importing the configuration, type-only',
      filePath: 'functions/domain/planted.ts',
      code: "import type { ENV } from '../config.js';\nexport type Env = typeof ENV;\n",
      error: /may not import functions\/config: the domain/,
    },
    {
      name: 'the function table importing aws-cdk-lib',
      filePath: 'functions/function-table.ts',
      code: "import { Duration } from 'aws-cdk-lib';\nexport const timeout = Duration.seconds(3);\n",
      error: /functions\/function-table\.ts may not import aws-cdk-lib: the function table is bundled/,
    },
    {
      name: 'a handler importing the local cloud',
      filePath: 'functions/handlers/planted.ts',
      code: "export { startLocalCloud } from '../../localcloud/index.js';\n",
      error: /may not import localcloud\/index: the product runs on AWS without/,
    },
    {
      name: 'infra importing a test helper',
      filePath: 'infra/planted.ts',
      code: "export * from '../test/support/wait-for.js';\n",
      error: /may not import test\/support\/wait-for: the product runs on AWS without/,
    },
    {
      name: 'a local cloud file importing functions/, however deep it sits',
      filePath: 'localcloud/src/lambda/planted.ts',
      code: "export { handler } from '../../../functions/handlers/produce.js';\n",
      error: /may not import functions\/handlers\/produce: the local cloud is its own package/,
    },
    {
      name: 'a local cloud test importing the client with a dynamic import',
      filePath: 'localcloud/test/planted.test.ts',
      code: "export const client = await import('../../client/producer.js');\n",
      error: /may not import client\/producer: the local cloud is its own package/,
    },
    {
      name: 'the console reading the tables',
      filePath: 'web/planted.ts',
      code: "import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nexport type Tables = DynamoDBDocumentClient;\n",
      error: /web\/planted\.ts may not import @aws-sdk\/lib-dynamodb: the client and the console reach the tables only through/,
    },
    {
      name: 'a script importing test/',
      filePath: 'scripts/bench/planted.ts',
      code: "export { waitFor } from '../../test/support/wait-for.js';\n",
      error: /scripts\/bench\/planted\.ts may not import test\/support\/wait-for: entry scripts may not depend on the tests/,
    },
  ])('$name', async ({ filePath, code, error }) => {
    const errors = await boundaryErrors(filePath, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
  });
});

describe('imports along the allowed directions pass', () => {
  test.each([
    {
      name: 'the domain importing the ports, node:crypto and its own modules',
      filePath: 'functions/domain/planted.ts',
      code:
        "import { createHash } from 'node:crypto';\nimport type { Deps } from '../ports/index.js';\nimport { electLeader } from './election.js';\n" +
        'export const uses = (deps: Deps) => [deps, createHash, electLeader];\n',
    },
    {
      name: 'infra importing the function table and aws-cdk-lib',
      filePath: 'infra/planted.ts',
      code: "import { Duration } from 'aws-cdk-lib';\nimport { FUNCTIONS } from '../functions/function-table.js';\nexport const uses = [Duration, FUNCTIONS];\n",
    },
    {
      name: 'a script importing the local cloud, the client and the shared stats',
      filePath: 'scripts/bench/planted.ts',
      code:
        "export { startLocalCloud } from '../../localcloud/index.js';\nexport { Producer } from '../../client/producer.js';\n" +
        "export { summarize } from '../../tools/stats.js';\n",
    },
    {
      name: 'a test importing anything',
      filePath: 'test/unit/planted.test.ts',
      code: "export * from '../../localcloud/index.js';\nexport * from '../../functions/adapters/memory/index.js';\nexport * from '../../scripts/lib/format.js';\n",
    },
  ])('$name', async ({ filePath, code }) => {
    expect(await boundaryErrors(filePath, code)).toEqual([]);
  });
});

describe('a workspace package is judged by the folder its node_modules link points to', () => {
  test('importing the local cloud by package name from functions/ is flagged, an npm package is not', async () => {
    const { default: architecture } = (await import(pathToFileURL(join(repoRoot, 'tools', 'eslint', 'import-boundaries.js')).href)) as {
      default: ESLint.Plugin;
    };
    const root = mkdtempSync(join(tmpdir(), 'boundaries-'));
    try {
      mkdirSync(join(root, 'localcloud'));
      mkdirSync(join(root, 'node_modules', '@local'), { recursive: true });
      symlinkSync(join('..', '..', 'localcloud'), join(root, 'node_modules', '@local', 'cloud'));
      const linter = new Linter({ cwd: root });
      const config: Linter.Config[] = [
        {
          files: ['**/*.ts'],
          languageOptions: { parser: tseslint.parser },
          plugins: { architecture },
          rules: { [RULE]: ['error', { boundaries: [{ files: ['functions'], forbidPaths: ['localcloud'], because: 'no' }] }] },
        },
      ];
      const code = "export { startLocalCloud } from '@local/cloud/runtime/index.js';\nexport { z } from 'zod';\n";
      const messages = linter.verify(code, config, { filename: join(root, 'functions', 'planted.ts') });
      expect(messages.map((message) => message.message)).toEqual(['functions/planted.ts may not import localcloud/runtime/index: no']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
