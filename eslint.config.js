// @ts-check
/**
 * typescript-eslint's type-aware recommended rules over every TypeScript file of the
 * project (product, local cloud, scripts, tests), and the import directions between its
 * folders (docs/architecture.md). `npm test` runs it through scripts/check.ts (`npm run check`),
 * which hands it programs built once instead of the project service.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import architecture from './tools/eslint/import-boundaries.js';

const AWS_SDK = '@aws-sdk/*';
const TABLE_CLIENTS = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-dynamodb-streams'];

/**
 * Who may not import whom. Paths are repository-relative folders or files without extension
 * (tools/eslint/import-boundaries.js resolves each import against its file).
 * @type {import('./tools/eslint/import-boundaries.js').Boundary[]}
 */
const boundaries = [
  {
    files: ['functions/domain'],
    forbidPaths: ['functions/adapters', 'functions/handlers', 'functions/config', 'functions/wiring', 'functions/logger', 'functions/function-table'],
    forbidPackages: [AWS_SDK, '@aws-lambda-powertools/*', 'aws-lambda', 'aws-cdk-lib', 'constructs'],
    because: 'the domain is pure rules over the store ports; the AWS SDK, trigger types, adapters, handlers and configuration stay outside it',
  },
  {
    files: ['functions', 'infra'],
    forbidPaths: ['localcloud', 'test', 'scripts', 'web'],
    because: 'the product runs on AWS without the local cloud, the tests, the entry scripts or the console',
  },
  {
    files: ['functions/function-table'],
    forbidPackages: ['aws-cdk-lib', 'constructs'],
    because: 'the function table is bundled into every Lambda, so it stays plain data; infra/ turns it into constructs',
  },
  {
    files: ['localcloud'],
    forbidPaths: ['functions', 'infra', 'client', 'web', 'scripts', 'test', 'protocol'],
    because: 'the local cloud is its own package and deploys whatever cdk.out holds; it knows nothing of the product',
  },
  {
    files: ['client', 'web'],
    forbidPaths: ['functions/adapters'],
    forbidPackages: TABLE_CLIENTS,
    because: 'the client and the console reach the tables only through the deployed functions',
  },
  {
    files: ['scripts'],
    forbidPaths: ['test'],
    because: 'entry scripts may not depend on the tests; helpers both need live in tools/ (or beside the code they serve)',
  },
  {
    files: ['tools'],
    forbidPaths: ['test', 'scripts'],
    because: 'tools/ holds what scripts and tests share, so it depends on neither',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.localcloud/', 'bench-results/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `const { dropped: _, ...rest } = item` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    plugins: { architecture },
    rules: { 'architecture/import-boundaries': ['error', { boundaries }] },
  },
  {
    files: ['test/**/*.ts', 'localcloud/test/**/*.ts'],
    rules: {
      // Vitest types its asymmetric matchers (expect.any, expect.stringContaining...) as `any`;
      // assigning one into an expected object is how they are meant to be used.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
