/**
 * `npm test` type-checks with `tsc -p tsconfig.json` and `tsc -p web/page` (vitest strips
 * types without checking them). These tests hold the two ends of that: every TypeScript file
 * git tracks belongs to one of those projects, and the project's compiler options turn a
 * planted type error into a diagnostic (the program is built in memory from the planted file
 * and what it imports, so it takes a moment, not a whole-project check).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../../../tools/synth.js';

/** The projects scripts/test.ts checks. */
const TYPECHECKED_PROJECTS = ['tsconfig.json', join('web', 'page', 'tsconfig.json')];

function parseProject(configPath: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(repoRoot, configPath), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`${configPath}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  });
  if (!parsed) throw new Error(`${configPath}: not a TypeScript project`);
  return parsed;
}

/** The repository's own files and the libraries, parsed once for all planted programs. */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** Type errors of `code` compiled as `fileName` in the repository with the root project's options. */
function plantedDiagnostics(fileName: string, code: string): string[] {
  const { options } = parseProject('tsconfig.json');
  const planted = join(repoRoot, fileName);
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (file) => file === planted || fileExists(file);
  host.readFile = (file) => (file === planted ? code : readFile(file));
  host.getSourceFile = (file, language, ...rest) => {
    if (file === planted) return ts.createSourceFile(file, code, language);
    if (!parsedFiles.has(file)) parsedFiles.set(file, getSourceFile(file, language, ...rest));
    return parsedFiles.get(file);
  };
  const program = ts.createProgram([planted], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
}

describe('the type check of npm test', () => {
  test('covers every TypeScript file git tracks', () => {
    const checked = new Set(TYPECHECKED_PROJECTS.flatMap((project) => parseProject(project).fileNames));
    const tracked = execFileSync('git', ['ls-files', '*.ts', '*.mts', '*.cts'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file !== '')
      .map((file) => join(repoRoot, file));
    expect(tracked.length).toBeGreaterThan(100);
    expect(tracked.filter((file) => !checked.has(file))).toEqual([]);
  });

  test('finds a planted type error in code that calls the domain', () => {
    const diagnostics = plantedDiagnostics(
      'functions/domain/planted.ts',
      "import { electLeader } from './election.js';\nexport const leader = electLeader('not a partition', () => true, false);\n",
    );
    expect(diagnostics.join('\n')).toMatch(/TS2345: Argument of type 'string' is not assignable/);
  }, 30_000);

  test('is strict: an implicit any is an error', () => {
    expect(plantedDiagnostics('functions/planted.ts', 'export function untyped(value) {\n  return value;\n}\n')).toEqual([
      expect.stringMatching(/^TS7006: Parameter 'value' implicitly has an 'any' type/),
    ]);
  }, 30_000);

  test('passes the same file without the error (the control)', () => {
    expect(plantedDiagnostics('functions/planted.ts', 'export function typed(value: number): number {\n  return value;\n}\n')).toEqual([]);
  }, 30_000);
});
