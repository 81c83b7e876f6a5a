import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { assemblyAssets } from '../../../../cloudformation/deploy/asset-source.js';
import { CodeCache } from '../../../../cloudformation/deploy/code-cache.js';
import { resolveCodeDir } from '../../../../cloudformation/deploy/function-code.js';
import { PropertyReader } from '../../../../cloudformation/deploy/props.js';

const caches: CodeCache[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const cache of caches.splice(0)) cache.dispose();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function newCache(): CodeCache {
  const cache = CodeCache.create();
  caches.push(cache);
  return cache;
}

describe('CodeCache', () => {
  it('is a directory of its own, private to the user (mode 0700), that dispose() removes', () => {
    const cache = newCache();
    const other = newCache();
    expect(other.dir).not.toBe(cache.dir);
    const stat = fs.statSync(cache.dir);
    expect(stat.isDirectory()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).toBe(process.getuid?.());
    expect(path.dirname(cache.dir)).toBe(os.tmpdir());

    cache.dispose();
    expect(fs.existsSync(cache.dir)).toBe(false);
    expect(fs.existsSync(other.dir)).toBe(true);
  });

  it('made lazily, makes its directory only when something is stored', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'code-cache-tmp-'));
    dirs.push(tmp);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const cache = CodeCache.lazy();
      caches.push(cache);
      cache.dispose();
      expect(fs.readdirSync(tmp)).toEqual([]);
      const file = cache.storeObject(strToU8('code'), '');
      expect(fs.readdirSync(tmp)).toEqual([path.basename(cache.dir)]);
      expect(fs.statSync(cache.dir).mode & 0o777).toBe(0o700);
      expect(fs.readFileSync(file, 'utf8')).toBe('code');
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });

  it('names objects by their content', () => {
    const cache = newCache();
    const v1 = cache.storeObject(strToU8('v1'), '.zip');
    expect(cache.storeObject(strToU8('v1'), '.zip')).toBe(v1);
    const v2 = cache.storeObject(strToU8('v2'), '.zip');
    expect(v2).not.toBe(v1);
    expect(path.dirname(v2).startsWith(cache.dir + path.sep)).toBe(true);
    expect(fs.readFileSync(v1, 'utf8')).toBe('v1');
  });
});

describe('resolveCodeDir', () => {
  const where = 'AWS::Lambda::Function Fn in stack S';

  it('unpacks a zip rebuilt at the same path anew, into the deployment cache', async () => {
    const cache = newCache();
    const assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-cache-'));
    dirs.push(assemblyDir);
    const zipFile = path.join(assemblyDir, 'asset.zip');
    const assets = assemblyAssets(new Map([['code.zip', { path: zipFile, packaging: 'file' }]]), cache);
    const code = new PropertyReader({ S3Bucket: 'b', S3Key: 'code.zip' }, where);
    const deploy = async (version: string): Promise<string> => {
      fs.writeFileSync(zipFile, zipSync({ 'index.js': strToU8(`exports.v = '${version}';`) }));
      const dir = await resolveCodeDir(code, 'nodejs20.x', assets, where);
      expect(dir.startsWith(cache.dir + path.sep)).toBe(true);
      return fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    };

    expect(await deploy('v1')).toBe("exports.v = 'v1';");
    expect(await deploy('v2')).toBe("exports.v = 'v2';");
  });

  it('writes inline code into the deployment cache, once per content', async () => {
    const cache = newCache();
    const assets = assemblyAssets(new Map(), cache);
    const inline = (source: string) => resolveCodeDir(new PropertyReader({ ZipFile: source }, where), 'nodejs20.x', assets, where);
    const dir = await inline('exports.handler = 1;');
    expect(dir.startsWith(cache.dir + path.sep)).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'index.js'), 'utf8')).toBe('exports.handler = 1;');
    expect(await inline('exports.handler = 1;')).toBe(dir);
    expect(await inline('exports.handler = 2;')).not.toBe(dir);
  });
});
