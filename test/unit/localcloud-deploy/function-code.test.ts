import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateError } from '../../../localcloud/deploy/errors.js';
import { unpackZip } from '../../../localcloud/deploy/function-code.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'function-code-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function writeZip(entries: Record<string, string>): string {
  const file = path.join(tempDir(), 'asset.zip');
  fs.writeFileSync(file, zipSync(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, strToU8(v)]))));
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
});
