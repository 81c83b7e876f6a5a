// @ts-check
/**
 * An ESLint rule that keeps the architecture's import directions: each boundary names the
 * folders (or files) it applies to, the repository folders and files they may not import,
 * and the npm packages they may not import.
 *
 * A relative import is resolved against the importing file, so a boundary keeps holding
 * when files move into subfolders; a bare import of a workspace package (a symlink in
 * node_modules) is resolved to the folder it links to. Paths are repository-relative and
 * compared without their extension: `functions/config` matches `functions/config.ts` and
 * everything under a `functions/config/` folder.
 *
 * Written in JavaScript because eslint.config.js loads it without a TypeScript loader.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * @typedef {object} Boundary
 * @property {string[]} files repository paths (folders or files, no extension) the boundary applies to
 * @property {string[]} [forbidPaths] repository paths those files may not import
 * @property {string[]} [allowPaths] exceptions inside forbidPaths
 * @property {string[]} [forbidPackages] package names they may not import; `@scope/*` matches a whole scope
 * @property {string} because why, shown in the error
 */

/** @param {string} path */
const withoutExtension = (path) => path.replace(/\.(d\.)?[cm]?[jt]sx?$/, '');

/** True when `path` is `area` itself or lies under it. @param {string} path @param {string} area */
const within = (path, area) => path === area || path.startsWith(`${area}/`);

/** The package a bare specifier names: `@aws-sdk/lib-dynamodb/x` → `@aws-sdk/lib-dynamodb`. @param {string} specifier */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** @param {string} name @param {string} pattern */
const packageMatches = (name, pattern) => (pattern.endsWith('/*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern);

/** @type {Map<string, string | undefined>} */
const workspaceLinks = new Map();

/**
 * Where a bare import lands inside the repository, or undefined for an ordinary package.
 * @param {string} root @param {string} specifier
 */
function workspaceTarget(root, specifier) {
  const name = packageName(specifier);
  const key = `${root}\0${name}`;
  if (!workspaceLinks.has(key)) {
    const link = join(root, 'node_modules', name);
    let target;
    try {
      if (lstatSync(link).isSymbolicLink()) target = resolve(dirname(link), readlinkSync(link));
    } catch {
      // Not installed: an ordinary (missing) package, which is tsc's business.
    }
    workspaceLinks.set(key, target);
  }
  const target = workspaceLinks.get(key);
  return target === undefined ? undefined : join(target, specifier.slice(name.length));
}

/** @param {string} path */
const toPosix = (path) => path.split(sep).join('/');

/** @type {import('eslint').Rule.RuleModule} */
const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps the import directions between the folders of the project' },
    schema: [
      {
        type: 'object',
        properties: {
          boundaries: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                files: { type: 'array', items: { type: 'string' }, minItems: 1 },
                forbidPaths: { type: 'array', items: { type: 'string' } },
                allowPaths: { type: 'array', items: { type: 'string' } },
                forbidPackages: { type: 'array', items: { type: 'string' } },
                because: { type: 'string' },
              },
              required: ['files', 'because'],
              additionalProperties: false,
            },
          },
        },
        required: ['boundaries'],
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden: '{{file}} may not import {{target}}: {{because}}',
    },
  },
  create(context) {
    const root = context.cwd;
    const fileName = toPosix(relative(root, context.filename));
    const file = withoutExtension(fileName);
    /** @type {Boundary[]} */
    const boundaries = context.options[0].boundaries;
    const applying = boundaries.filter((boundary) => boundary.files.some((area) => within(file, area)));
    if (applying.length === 0) return {};

    /** @param {import('estree').Node | null | undefined} node @param {unknown} source */
    function check(node, source) {
      if (!node || typeof source !== 'string') return;
      let repoPath;
      if (source.startsWith('.')) repoPath = resolve(dirname(context.filename), source);
      else if (!source.startsWith('node:')) repoPath = workspaceTarget(root, source);
      const target = repoPath === undefined ? undefined : toPosix(withoutExtension(relative(root, repoPath)));
      for (const boundary of applying) {
        const forbidden =
          target !== undefined
            ? (boundary.forbidPaths ?? []).some((area) => within(target, area)) &&
              !(boundary.allowPaths ?? []).some((area) => within(target, area))
            : (boundary.forbidPackages ?? []).some((pattern) => packageMatches(packageName(source), pattern));
        if (forbidden) {
          context.report({ node, messageId: 'forbidden', data: { file: fileName, target: target ?? source, because: boundary.because } });
          return;
        }
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => check(node.source, node.source?.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => check(node.source, node.source.type === 'Literal' ? node.source.value : undefined),
      // `import('x').T` in a type position and `import x = require('x')`, as typescript-eslint parses them.
      /** @param {any} node */
      TSImportType: (node) => check(node, node.argument?.literal?.value ?? node.source?.value),
      /** @param {any} node */
      TSExternalModuleReference: (node) => check(node, node.expression?.value),
    };
  },
};

export default { meta: { name: 'architecture' }, rules: { 'import-boundaries': importBoundaries } };
