// @ts-check
/**
 * typescript-eslint's type-aware recommended rules over every TypeScript file of the
 * project (product, local cloud, scripts, tests). `npm test` runs it first.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    files: ['test/**/*.ts', 'localcloud/test/**/*.ts'],
    rules: {
      // Vitest types its asymmetric matchers (expect.any, expect.stringContaining...) as `any`;
      // assigning one into an expected object is how they are meant to be used.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
