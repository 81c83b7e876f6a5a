/**
 * Where a function's code lives on disk. CDK stages `Code.fromAsset` directories
 * (and NodejsFunction bundles) unpacked as cdk.out/asset.<hash>; the template only
 * names the S3 object key of the upload, which the asset manifest maps back.
 * Zips and inline code are staged in the deployment's code cache, never in the assembly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { AssetSource } from './asset-source.js';
import { processCodeCache, sha256, type CodeCache } from './code-cache.js';
import { TemplateError } from './errors.js';
import type { PropertyReader } from './props.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Links followed while resolving one link's target: Linux's limit before ELOOP. */
const MAX_LINK_HOPS = 40;

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The names of the entries whose Unix mode (the high 16 bits of the central directory's
 * external attributes) says symlink. fflate reads that directory but does not report the
 * mode; the walk below reads it the way fflate's unzipSync does, so the names match.
 */
function symlinkEntryNames(zip: Uint8Array): Set<string> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  let end = zip.length - 22;
  while (u32(end) !== 0x06054b50) end--;
  let count = u16(end + 8);
  let offset = u32(end + 16);
  if (offset === 0xffffffff || count === 0xffff) {
    const zip64End = u32(end - 12);
    if (u32(zip64End) === 0x06064b50) {
      count = u32(zip64End + 32);
      offset = u32(zip64End + 48);
    }
  }
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const nameLength = u16(offset + 28);
    const mode = u32(offset + 38) >>> 16;
    if ((mode & S_IFMT) === S_IFLNK) {
      const utf8 = (u16(offset + 8) & 0x800) !== 0;
      names.add(strFromU8(zip.subarray(offset + 46, offset + 46 + nameLength), !utf8));
    }
    offset += 46 + nameLength + u16(offset + 30) + u16(offset + 32);
  }
  return names;
}

type LinkResolution = 'inside' | 'outside' | 'too-deep';

/**
 * Where the link at package path `linkPath` leads, following the package's own links on
 * the way as the kernel will once they exist: after a link `b` to a higher directory,
 * `b/..` climbs from b's target, not from b's parent. The extraction directory holds
 * nothing but the package, so the package's links are the only ones there are.
 */
function resolveLink(links: ReadonlyMap<string, string>, linkPath: string): LinkResolution {
  let hops = 0;
  const walk = (fromDir: string[], target: string): string[] | LinkResolution => {
    if (target.startsWith('/')) return 'outside';
    let at = [...fromDir];
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (at.length === 0) return 'outside';
        at.pop();
        continue;
      }
      at.push(part);
      const next = links.get(at.join('/'));
      if (next === undefined) continue;
      if (++hops > MAX_LINK_HOPS) return 'too-deep';
      const resolved = walk(at.slice(0, -1), next);
      if (!Array.isArray(resolved)) return resolved;
      at = resolved;
    }
    return at;
  };
  const resolved = walk(linkPath.split('/').slice(0, -1), links.get(linkPath) ?? '');
  return Array.isArray(resolved) ? 'inside' : resolved;
}

/**
 * Writes every entry under `dir`, all checked before the first is written. An entry whose
 * name would land outside it (`../x`, an absolute path: "zip slip") fails the extraction,
 * as does a symlink whose target is outside the package (AWS Lambda keeps links inside
 * it), or an entry under a symlinked directory (writing it would follow the link).
 */
export function unpackZip(zipFile: string, dir: string): void {
  let zip: Buffer;
  try {
    zip = fs.readFileSync(zipFile);
  } catch (err) {
    throw new TemplateError(`Cannot unpack zip asset ${zipFile}: ${reasonOf(err)}`);
  }
  unpackZipBytes(zip, zipFile, dir);
}

function unpackZipBytes(zip: Uint8Array, zipFile: string, dir: string): void {
  let entries: Record<string, Uint8Array>;
  let linkNames: Set<string>;
  try {
    entries = unzipSync(zip);
    linkNames = symlinkEntryNames(zip);
  } catch (err) {
    throw new TemplateError(`Cannot unpack zip asset ${zipFile}: ${reasonOf(err)}`);
  }
  const root = path.resolve(dir);
  const fail = (message: string): never => {
    throw new TemplateError(`Zip asset ${zipFile}: ${message}`);
  };
  /** Entry name → its path in the package (`a/b`), and the links' targets and entry names by that path. */
  const packagePaths = new Map<string, string>();
  const linkTargets = new Map<string, string>();
  const linkNamesByPath = new Map<string, string>();
  for (const [name, data] of Object.entries(entries)) {
    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(root + path.sep)) fail(`entry "${name}" would be written outside ${root}`);
    const packagePath = path.relative(root, target).split(path.sep).join('/');
    packagePaths.set(name, packagePath);
    if (linkNames.has(name) && !name.endsWith('/')) {
      linkTargets.set(packagePath, strFromU8(data));
      linkNamesByPath.set(packagePath, name);
    }
  }
  for (const [name, packagePath] of packagePaths) {
    const parts = packagePath.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const link = linkNamesByPath.get(parts.slice(0, depth).join('/'));
      if (link !== undefined) fail(`zip entry ${name} is inside ${link}, which is a symlink`);
    }
  }
  for (const [packagePath, target] of linkTargets) {
    const name = linkNamesByPath.get(packagePath) ?? packagePath;
    const resolution = resolveLink(linkTargets, packagePath);
    if (resolution === 'outside') fail(`zip entry ${name} is a symlink to ${target}, outside the package`);
    if (resolution === 'too-deep') fail(`zip entry ${name} is a symlink to ${target}, through more than ${MAX_LINK_HOPS} links`);
  }
  for (const [name, data] of Object.entries(entries)) {
    const packagePath = packagePaths.get(name) ?? name;
    if (linkTargets.has(packagePath)) continue;
    const target = path.resolve(root, packagePath);
    if (name.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, data);
  }
  // Last, so that no entry is ever written through one.
  for (const [packagePath, linkTarget] of linkTargets) {
    const target = path.resolve(root, packagePath);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.symlinkSync(linkTarget, target);
  }
}

/** Unpacked once per content: a zip rebuilt at the same path is a new entry. */
function extractZip(cache: CodeCache, zipFile: string): string {
  const zip = fs.readFileSync(zipFile);
  return cache.directory('zip', sha256(zip), (dir) => unpackZipBytes(zip, zipFile, dir));
}

/**
 * `Code.fromInline` code (Code.ZipFile) is written as index.js next to a package.json
 * that pins CommonJS: inline handlers use `exports.handler`, and a parent
 * package.json with "type": "module" must not turn them into ES modules.
 */
function writeInlineCode(cache: CodeCache, source: string, runtime: string): string {
  return cache.directory('inline', sha256(`${runtime}\n${source}`), (dir) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.js'), source);
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  });
}

/** The absolute directory holding the function's handler file. */
export async function resolveCodeDir(code: PropertyReader, runtime: string, assets: AssetSource, where: string): Promise<string> {
  const cache = assets.codeCache ?? processCodeCache();
  const inline = code.optString('ZipFile');
  if (inline !== undefined) return writeInlineCode(cache, inline, runtime);
  const key = code.optString('S3Key');
  if (key === undefined) throw new TemplateError(`${where}: Code has neither S3Key nor ZipFile`);
  const bucket = code.optString('S3Bucket');
  const asset = await assets.locate(bucket, key);
  if (!asset) {
    throw new TemplateError(`${where}: Code.S3Key ${key} is neither a file asset of the cloud assembly nor an object of bucket ${bucket ?? '(none)'}`);
  }
  if (fs.statSync(asset.path, { throwIfNoEntry: false })?.isDirectory()) return asset.path;
  if (asset.path.endsWith('.zip')) return extractZip(cache, asset.path);
  throw new TemplateError(`${where}: asset ${asset.path} is neither a directory nor a .zip file`);
}
