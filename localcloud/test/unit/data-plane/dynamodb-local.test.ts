import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbLocalPortInUseError,
  JavaNotFoundError,
  JavaTooOldError,
  javaMajor,
  startDynamoDbLocal,
} from '../../../data-plane/dynamodb-local.js';

describe('startDynamoDbLocal: what it needs, said plainly', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fake-java-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A `java` that prints what `java -version` prints for `version`, on stderr as the real one does. */
  function fakeJava(name: string, version: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\necho 'openjdk version "${version}" 2020-01-01' >&2\nexit 0\n`);
    chmodSync(file, 0o755);
    return file;
  }

  it('without java, says to install OpenJDK 17 and how', async () => {
    const error: unknown = await startDynamoDbLocal({ javaCommand: 'java_that_does_not_exist' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JavaNotFoundError);
    expect((error as Error).message).toContain('install OpenJDK 17: apt-get install openjdk-17-jre-headless');
    expect((error as Error).message).toContain('Java 11+');
  });

  it('with Java 8, names the version found and the one needed', async () => {
    const error: unknown = await startDynamoDbLocal({ javaCommand: fakeJava('java8', '1.8.0_392') }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JavaTooOldError);
    expect((error as Error).message).toContain('Java 1.8.0_392');
    expect((error as Error).message).toContain('needs Java 11+');
    expect((error as Error).message).toContain('apt-get install openjdk-17-jre-headless');
  });

  it('on a taken port, names the port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const error: unknown = await startDynamoDbLocal({ port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DynamoDbLocalPortInUseError);
      expect((error as Error).message).toContain(`port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('reads Java versions old and new', () => {
    expect([javaMajor('1.8.0_392'), javaMajor('11'), javaMajor('11.0.2'), javaMajor('17.0.15'), javaMajor('21-ea')]).toEqual([8, 11, 11, 17, 21]);
  });
});
