import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAssembly } from '../../../../cloudformation/deploy/assembly.js';
import { AssemblyError } from '../../../../cloudformation/deploy/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assembly-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function write(dir: string, file: string, content: unknown): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
}

const stack = (templateFile: string, dependencies: string[] = [], stackName?: string) => ({
  type: 'aws:cloudformation:stack',
  environment: 'aws://unknown-account/unknown-region',
  properties: { templateFile, ...(stackName ? { stackName } : {}) },
  dependencies,
});

describe('readAssembly', () => {
  it('orders stacks by dependency, indexes file assets by S3 key, and includes nested Stage assemblies', () => {
    const dir = tempDir();
    write(dir, 'App.assets.json', {
      version: '55.0.0',
      files: {
        abc: {
          source: { path: 'asset.abc', packaging: 'zip' },
          destinations: { d: { bucketName: 'b', objectKey: 'abc.zip' } },
        },
      },
    });
    write(dir, 'Consumer.template.json', { Resources: {} });
    write(dir, 'App.template.json', { Resources: { T: { Type: 'AWS::SQS::Queue' } } });
    write(dir, 'assembly-Stage/Inner.template.json', { Resources: {} });
    write(dir, 'assembly-Stage/manifest.json', { version: '55.0.0', artifacts: { Inner: stack('Inner.template.json') } });
    write(dir, 'manifest.json', {
      version: '55.0.0',
      artifacts: {
        Consumer: stack('Consumer.template.json', ['App']),
        'App.assets': { type: 'cdk:asset-manifest', properties: { file: 'App.assets.json' } },
        App: stack('App.template.json', ['App.assets'], 'app-stack'),
        Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Stage' } },
      },
    });

    const stacks = readAssembly(dir);
    expect(stacks.map((s) => s.stackName)).toEqual(['app-stack', 'Consumer', 'Inner']);
    expect(stacks[0].template.Resources.T.Type).toBe('AWS::SQS::Queue');
    expect(stacks[0].templateFile).toBe(path.join(dir, 'App.template.json'));
    expect(stacks[0].assets.get('abc.zip')).toEqual({ path: path.join(dir, 'asset.abc'), packaging: 'zip' });
    expect(stacks[1].assets.size).toBe(0);
  });

  it('reports a missing cdk.out as an AssemblyError naming the directory', () => {
    const dir = path.join(tempDir(), 'cdk.out');
    expect(() => readAssembly(dir)).toThrow(AssemblyError);
    expect(() => readAssembly(dir)).toThrow(`Cannot read the cloud assembly in ${dir}`);
  });

  it('reports a corrupt manifest.json as an AssemblyError', () => {
    const dir = tempDir();
    write(dir, 'manifest.json', '{ not json');
    expect(() => readAssembly(dir)).toThrow(AssemblyError);
  });

  it('reports a missing template as an AssemblyError naming the file', () => {
    const dir = tempDir();
    write(dir, 'manifest.json', { version: '55.0.0', artifacts: { App: stack('App.template.json') } });
    expect(() => readAssembly(dir)).toThrow(AssemblyError);
    expect(() => readAssembly(dir)).toThrow(path.join(dir, 'App.template.json'));
  });

  it('reports a template that is not a CloudFormation object as an AssemblyError', () => {
    const dir = tempDir();
    write(dir, 'App.template.json', { Resources: { Bad: { Properties: {} } } });
    write(dir, 'manifest.json', { version: '55.0.0', artifacts: { App: stack('App.template.json') } });
    expect(() => readAssembly(dir)).toThrow(/resource Bad has no Type/);
  });
});
