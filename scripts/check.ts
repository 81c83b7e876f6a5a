/**
 * `npm run check`: the linter and the type checker in one process over one pair of TypeScript
 * programs (`npm test` runs it beside the unit tests). The same checks as `npm run lint` and
 * `npm run build`: tsc's diagnostics of the two tsconfigs the build checks, and
 * eslint.config.js's rules over the files `eslint .` lints. What differs is where the type
 * information comes from: `eslint .` asks the project service, which builds its programs again
 * as it goes from file to file, and tsc builds them once more; here each program is built
 * and type-checked once, and every file is linted against it. About a third of the time.
 * Exit code: 0 clean, 1 lint errors, 2 type errors, 3 both, 4 the checks themselves failed.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { repoRoot } from '../tools/synth.js';

/** The projects `npm run build` checks; between them they hold every file `eslint .` lints. */
const TSCONFIGS = ['tsconfig.json', join('web', 'page', 'tsconfig.json')];

process.exitCode = await check().catch((err: unknown) => {
  console.error(err);
  return 4;
});

async function check(): Promise<number> {
  const programs = TSCONFIGS.map((config) => createProgram(join(repoRoot, config)));

  const diagnostics = programs.flatMap((program) => ts.getPreEmitDiagnostics(program));
  if (diagnostics.length > 0) {
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (name) => name, getCurrentDirectory: () => repoRoot, getNewLine: () => '\n' };
    // As tsc does: with colours and the source line on a terminal, one line per error otherwise.
    console.log((process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics)(diagnostics, host));
    console.log(`typecheck: ${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`);
  } else console.log('typecheck: no errors');

  const eslint = new ESLint({ cwd: repoRoot, overrideConfig: { languageOptions: { parserOptions: { projectService: false, programs } } } });
  const results = await eslint.lintFiles(['.']);
  const report = await (await eslint.loadFormatter('stylish')).format(results);
  if (report) console.log(report);
  const lintOk = results.every((result) => result.errorCount === 0);
  if (lintOk) console.log(`lint: ${results.some((result) => result.warningCount > 0) ? 'warnings only' : 'no problems'}`);

  return (lintOk ? 0 : 1) + (diagnostics.length === 0 ? 0 : 2);
}

function createProgram(configPath: string): ts.Program {
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(`${configPath}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    },
  });
  if (!parsed) throw new Error(`${configPath} cannot be read`);
  if (parsed.errors.length > 0) throw new Error(`${configPath}: ${parsed.errors.map((error) => ts.flattenDiagnosticMessageText(error.messageText, '\n')).join('; ')}`);
  return ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
}
