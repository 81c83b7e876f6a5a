import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateError } from '../../../../cloudformation/deploy/errors.js';
import { unpackZip } from '../../../../cloudformation/deploy/function-code.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'function-code-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A `{ link: target }` value is a Unix symlink entry, as `zip -y` stores one: the target as content, S_IFLNK in the mode. */
function writeZip(entries: Record<string, string | { link: string }>): string {
  const file = path.join(tempDir(), 'asset.zip');
  const symlink = { os: 3, attrs: (0o120777 << 16) >>> 0 };
  const files = Object.entries(entries).map(([name, value]) =>
    typeof value === 'string' ? [name, strToU8(value)] : [name, [strToU8(value.link), symlink]],
  );
  fs.writeFileSync(file, zipSync(Object.fromEntries(files) as Zippable));
  return file;
}

describe('unpackZip', () => {
  it('unpacks nested files and directories without an unzip binary', () => {
    const zip = writeZip({ 'index.js': 'exports.handler = 1;', 'lib/': '', 'lib/util.js': 'module.exports = 2;' });
    const out = path.join(tempDir(), 'out');
    unpackZip(zip, out);
    expect(fs.readFileSync(path.join(out, 'index.js'), 'utf8')).toBe('exports.handler = 1;');
    expect(fs.readFileSync(path.join(out, 'lib/util.js'), 'utf8')).toBe('module.exports = 2;');
  });

  it('refuses an entry that would escape the target directory (zip slip)', () => {
    const zip = writeZip({ 'ok.js': '', '../escaped.js': 'pwned' });
    const parent = tempDir();
    const out = path.join(parent, 'out');
    expect(() => unpackZip(zip, out)).toThrow(TemplateError);
    expect(() => unpackZip(zip, out)).toThrow(/entry "\.\.\/escaped\.js" would be written outside/);
    expect(fs.existsSync(path.join(parent, 'escaped.js'))).toBe(false);
  });

  it('names the file when it is not a zip', () => {
    const file = path.join(tempDir(), 'broken.zip');
    fs.writeFileSync(file, 'not a zip');
    expect(() => unpackZip(file, path.join(tempDir(), 'out'))).toThrow(`Cannot unpack zip asset ${file}`);
  });

  it('keeps a symlink whose target is inside the package', () => {
    const zip = writeZip({ 'lib/real.js': 'exports.handler = 1;', 'index.js': { link: 'lib/real.js' }, 'lib/up': { link: '..' } });
    const out = path.join(tempDir(), 'out');
    unpackZip(zip, out);
    expect(fs.lstatSync(path.join(out, 'index.js')).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(out, 'index.js'))).toBe('lib/real.js');
    expect(fs.readFileSync(path.join(out, 'index.js'), 'utf8')).toBe('exports.handler = 1;');
    expect(fs.realpathSync(path.join(out, 'lib/up'))).toBe(fs.realpathSync(out));
  });

  it.each([
    ['an absolute target', { out: { link: '/etc' } }, 'zip entry out is a symlink to /etc, outside the package'],
    ['a target above the package', { 'a/b/out': { link: '../../../x' } }, 'zip entry a/b/out is a symlink to ../../../x, outside the package'],
    // d/f/up is the package root, so up/.. is its parent: the path climbs from the link's target, not from d/f.
    ['a target that climbs out through another link', { 'd/f/up': { link: '../..' }, out: { link: 'd/f/up/..' } }, 'zip entry out is a symlink to d/f/up/.., outside the package'],
  ])('refuses a symlink to %s, with a clear message, and writes nothing', (_what, entries, message) => {
    const zip = writeZip({ 'index.js': 'exports.handler = 1;', ...entries });
    const out = path.join(tempDir(), 'out');
    expect(() => unpackZip(zip, out)).toThrow(new TemplateError(`Zip asset ${zip}: ${message}`));
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses an entry under a symlinked directory, which writing would follow', () => {
    const zip = writeZip({ 'sub/': '', out: { link: 'sub' }, 'out/x.txt': 'x' });
    const out = path.join(tempDir(), 'out');
    expect(() => unpackZip(zip, out)).toThrow(`Zip asset ${zip}: zip entry out/x.txt is inside out, which is a symlink`);
    expect(fs.existsSync(out)).toBe(false);
  });
});
