/**
 * Where deployed function code is staged on disk: code objects downloaded from S3, unpacked
 * zips, inline code. Entries are named by the sha256 of their content, so a new object under
 * an old key (or a rebuilt zip at the same path) never runs what was cached for the old one.
 * The directory is private to its cloud (mkdtemp creates it with mode 0700, under a name no
 * one else can predict or create first) and goes when the cloud stops.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const sha256 = (content: string | Uint8Array): string => createHash('sha256').update(content).digest('hex');

export class CodeCache {
  private made?: string;

  private constructor() {}

  /** The directory, made now. */
  static create(): CodeCache {
    const cache = new CodeCache();
    void cache.dir;
    return cache;
  }

  /** The directory, made when something is first stored (most deployments stage no code). */
  static lazy(): CodeCache {
    return new CodeCache();
  }

  get dir(): string {
    return (this.made ??= fs.mkdtempSync(path.join(os.tmpdir(), 'localcloud-code-')));
  }

  /** The bytes as a file named by their hash (`extension` keeps what the name tells readers, e.g. `.zip`). */
  storeObject(bytes: Uint8Array, extension: string): string {
    const file = path.join(this.kindDir('objects'), `${sha256(bytes)}${extension}`);
    if (!fs.existsSync(file)) {
      const partial = `${file}.partial-${randomUUID()}`;
      fs.writeFileSync(partial, bytes);
      fs.renameSync(partial, file);
    }
    return file;
  }

  /**
   * The directory for `key`, filled by `fill` the first time. It is filled aside and renamed
   * into place, so a failed or concurrent fill never leaves a half-filled entry to be reused.
   */
  directory(kind: string, key: string, fill: (dir: string) => void): string {
    const target = path.join(this.kindDir(kind), key);
    if (fs.existsSync(target)) return target;
    const partial = `${target}.partial-${randomUUID()}`;
    try {
      fill(partial);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      throw err;
    }
    try {
      fs.renameSync(partial, target);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      // Another deployment filled the same content first: theirs is as good.
      if (!fs.existsSync(target)) throw err;
    }
    return target;
  }

  dispose(): void {
    if (this.made !== undefined) fs.rmSync(this.made, { recursive: true, force: true });
  }

  private kindDir(kind: string): string {
    const dir = path.join(this.dir, kind);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}

let processCache: CodeCache | undefined;

/** For a CloudFormationService made without a cache (unit tests): one private cache for the process, removed when it exits. */
export function processCodeCache(): CodeCache {
  if (!processCache) {
    const cache = CodeCache.lazy();
    process.once('exit', () => cache.dispose());
    processCache = cache;
  }
  return processCache;
}
