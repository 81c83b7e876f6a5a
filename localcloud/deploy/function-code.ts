/**
 * Where a function's code lives on disk. CDK stages `Code.fromAsset` directories
 * (and NodejsFunction bundles) unpacked as cdk.out/asset.<hash>; the template only
 * names the S3 object key of the upload, which the asset manifest maps back.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { shortHash } from '../shared/ids.js';
import type { AssetSource } from './asset-source.js';
import { TemplateError } from './errors.js';
import type { PropertyReader } from './props.js';

/** Extracted zip assets and inline code go under the OS temp dir, never into the assembly. */
const cacheRoot = (kind: string): string => path.join(os.tmpdir(), 'localcloud', kind);

/**
 * Writes every entry under `dir`. An entry whose name would land outside it
 * (`../x`, an absolute path: "zip slip") fails the whole extraction.
 */
export function unpackZip(zipFile: string, dir: string): void {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(fs.readFileSync(zipFile));
  } catch (err) {
    throw new TemplateError(`Cannot unpack zip asset ${zipFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = path.resolve(dir);
  for (const [name, data] of Object.entries(entries)) {
    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new TemplateError(`Zip asset ${zipFile}: entry "${name}" would be written outside ${root}`);
    }
    if (name.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, data);
  }
}

function extractZip(zipFile: string): string {
  const target = path.join(cacheRoot('zip-assets'), `${path.basename(zipFile, '.zip')}-${shortHash(zipFile)}`);
  if (!fs.existsSync(target)) {
    const partial = `${target}.partial-${process.pid}`;
    try {
      unpackZip(zipFile, partial);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      throw err;
    }
    // Rename last so a concurrent or interrupted extraction never leaves a half-filled cache entry.
    fs.renameSync(partial, target);
  }
  return target;
}

/**
 * `Code.fromInline` code (Code.ZipFile) is written as index.js next to a package.json
 * that pins CommonJS: inline handlers use `exports.handler`, and a parent
 * package.json with "type": "module" must not turn them into ES modules.
 */
function writeInlineCode(source: string, runtime: string): string {
  const dir = path.join(cacheRoot('inline'), shortHash(`${runtime}\n${source}`, 16));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.js'), source);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  return dir;
}

/** The absolute directory holding the function's handler file. */
export async function resolveCodeDir(code: PropertyReader, runtime: string, assets: AssetSource, where: string): Promise<string> {
  const inline = code.optString('ZipFile');
  if (inline !== undefined) return writeInlineCode(inline, runtime);
  const key = code.optString('S3Key');
  if (key === undefined) throw new TemplateError(`${where}: Code has neither S3Key nor ZipFile`);
  const bucket = code.optString('S3Bucket');
  const asset = await assets.locate(bucket, key);
  if (!asset) {
    throw new TemplateError(`${where}: Code.S3Key ${key} is neither a file asset of the cloud assembly nor an object of bucket ${bucket ?? '(none)'}`);
  }
  if (fs.statSync(asset.path, { throwIfNoEntry: false })?.isDirectory()) return asset.path;
  if (asset.path.endsWith('.zip')) return extractZip(asset.path);
  throw new TemplateError(`${where}: asset ${asset.path} is neither a directory nor a .zip file`);
}
