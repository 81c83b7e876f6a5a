/**
 * Reading a synthesized CDK cloud assembly (cdk.out): its stacks, in deployment
 * order, each with its template and the index of its file assets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRecord } from '../shared/guards.js';
import { AssemblyError } from './errors.js';
import { topologicalOrder } from './graph.js';
import { parseTemplate, type CfnTemplate } from './template.js';

export interface FileAsset {
  /** Absolute path of the staged asset: a directory (unpacked) or a file (e.g. a .zip). */
  path: string;
  packaging: string;
}

/** S3 object key of an asset's upload (what a template's Code.S3Key names) → the staged asset. */
export type AssetIndex = ReadonlyMap<string, FileAsset>;

export interface StackArtifact {
  artifactId: string;
  stackName: string;
  templateFile: string;
  template: CfnTemplate;
  assets: AssetIndex;
  /** Artifact ids this stack depends on (stacks and asset manifests). */
  dependencies: string[];
}

const STACK = 'aws:cloudformation:stack';
const ASSET_MANIFEST = 'cdk:asset-manifest';
const NESTED_ASSEMBLY = 'cdk:cloud-assembly';

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AssemblyError(`Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AssemblyError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function stringProperty(props: Record<string, unknown>, key: string, where: string): string {
  const value = props[key];
  if (typeof value !== 'string') throw new AssemblyError(`${where}: properties.${key} must be a string`);
  return value;
}

function readAssetManifest(file: string, assemblyDir: string): Map<string, FileAsset> {
  const manifest = readJson(file);
  const index = new Map<string, FileAsset>();
  const files = isRecord(manifest) && isRecord(manifest.files) ? manifest.files : {};
  for (const [hash, entry] of Object.entries(files)) {
    if (!isRecord(entry) || !isRecord(entry.source) || typeof entry.source.path !== 'string') {
      throw new AssemblyError(`${file}: file asset ${hash} has no source.path`);
    }
    const asset: FileAsset = {
      path: path.resolve(assemblyDir, entry.source.path),
      packaging: typeof entry.source.packaging === 'string' ? entry.source.packaging : 'file',
    };
    const destinations = isRecord(entry.destinations) ? Object.values(entry.destinations) : [];
    for (const destination of destinations) {
      if (isRecord(destination) && typeof destination.objectKey === 'string') {
        index.set(destination.objectKey, asset);
      }
    }
  }
  return index;
}

interface RawArtifact {
  type: string;
  properties: Record<string, unknown>;
  dependencies: string[];
}

function readArtifacts(manifestFile: string): Map<string, RawArtifact> {
  const manifest = readJson(manifestFile);
  if (!isRecord(manifest) || !isRecord(manifest.artifacts)) {
    throw new AssemblyError(`${manifestFile} has no "artifacts": is this a cloud assembly (cdk.out)?`);
  }
  const artifacts = new Map<string, RawArtifact>();
  for (const [id, raw] of Object.entries(manifest.artifacts)) {
    if (!isRecord(raw) || typeof raw.type !== 'string') continue;
    const dependencies = Array.isArray(raw.dependencies)
      ? raw.dependencies.filter((d): d is string => typeof d === 'string')
      : [];
    artifacts.set(id, { type: raw.type, properties: isRecord(raw.properties) ? raw.properties : {}, dependencies });
  }
  return artifacts;
}

/** Every stack of the assembly (nested Stage assemblies included), dependencies first. */
export function readAssembly(assemblyDir: string): StackArtifact[] {
  const dir = path.resolve(assemblyDir);
  const manifestFile = path.join(dir, 'manifest.json');
  const artifacts = readArtifacts(manifestFile);

  const assetsByArtifact = new Map<string, Map<string, FileAsset>>();
  for (const [id, artifact] of artifacts) {
    if (artifact.type !== ASSET_MANIFEST) continue;
    const file = path.join(dir, stringProperty(artifact.properties, 'file', `${manifestFile} artifact ${id}`));
    assetsByArtifact.set(id, readAssetManifest(file, dir));
  }

  const stacks = new Map<string, StackArtifact>();
  const nested: StackArtifact[] = [];
  for (const [id, artifact] of artifacts) {
    const where = `${manifestFile} artifact ${id}`;
    if (artifact.type === NESTED_ASSEMBLY) {
      nested.push(...readAssembly(path.join(dir, stringProperty(artifact.properties, 'directoryName', where))));
      continue;
    }
    if (artifact.type !== STACK) continue;
    const templateFile = path.join(dir, stringProperty(artifact.properties, 'templateFile', where));
    const assets = new Map<string, FileAsset>();
    for (const dep of artifact.dependencies) {
      for (const [key, asset] of assetsByArtifact.get(dep) ?? []) assets.set(key, asset);
    }
    const stackName = typeof artifact.properties.stackName === 'string' ? artifact.properties.stackName : id;
    stacks.set(id, {
      artifactId: id,
      stackName,
      templateFile,
      template: parseTemplate(readJson(templateFile), templateFile),
      assets,
      dependencies: artifact.dependencies,
    });
  }

  const order = topologicalOrder([...stacks.keys()], (id) => stacks.get(id)?.dependencies ?? [], 'stacks');
  return [...order.map((id) => stacks.get(id)).filter((s): s is StackArtifact => s !== undefined), ...nested];
}
