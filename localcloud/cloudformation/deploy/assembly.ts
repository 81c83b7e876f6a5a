/**
 * Reading a synthesized CDK cloud assembly (cdk.out) through the CDK's own reader,
 * so manifest versions, nested Stage assemblies and dependency order are whatever
 * the CDK CLI would see.
 */
import * as path from 'node:path';
import { AssetManifestArtifact, CloudAssembly, type CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { AssemblyError } from './errors.js';
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
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function loadAssembly(dir: string): CloudAssembly {
  try {
    return new CloudAssembly(dir);
  } catch (err) {
    throw new AssemblyError(`Cannot read the cloud assembly in ${dir} (is this a cdk.out?): ${reason(err)}`, {
      cause: err,
    });
  }
}

function assetIndex(manifest: AssetManifestArtifact): Map<string, FileAsset> {
  let files;
  try {
    files = manifest.contents.files ?? {};
  } catch (err) {
    throw new AssemblyError(`Cannot read asset manifest ${manifest.file}: ${reason(err)}`, { cause: err });
  }
  // Source paths are relative to the manifest's own directory (a nested assembly's, for a Stage).
  const base = path.dirname(manifest.file);
  const index = new Map<string, FileAsset>();
  for (const [hash, entry] of Object.entries(files)) {
    if (entry.source.path === undefined) throw new AssemblyError(`${manifest.file}: file asset ${hash} has no source.path`);
    const asset: FileAsset = { path: path.resolve(base, entry.source.path), packaging: entry.source.packaging ?? 'file' };
    for (const destination of Object.values(entry.destinations)) index.set(destination.objectKey, asset);
  }
  return index;
}

function stackArtifact(stack: CloudFormationStackArtifact): StackArtifact {
  let raw: unknown;
  try {
    raw = stack.template;
  } catch (err) {
    throw new AssemblyError(`Cannot read template ${stack.templateFullPath}: ${reason(err)}`, { cause: err });
  }
  const assets = new Map<string, FileAsset>();
  for (const dependency of stack.dependencies) {
    if (!AssetManifestArtifact.isAssetManifestArtifact(dependency)) continue;
    for (const [key, asset] of assetIndex(dependency)) assets.set(key, asset);
  }
  return {
    artifactId: stack.id,
    stackName: stack.stackName,
    templateFile: stack.templateFullPath,
    template: parseTemplate(raw, stack.templateFullPath),
    assets,
  };
}

/** Every stack of the assembly (nested Stage assemblies included), dependencies first. */
export function readAssembly(assemblyDir: string): StackArtifact[] {
  return loadAssembly(path.resolve(assemblyDir)).stacksRecursively.map(stackArtifact);
}
