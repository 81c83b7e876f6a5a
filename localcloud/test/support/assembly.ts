/** Hand-written cloud assemblies, for templates CDK would not synthesize (bad types, bad intrinsics). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeAssembly(dir: string, stacks: Record<string, Record<string, unknown>>): string {
  fs.mkdirSync(dir, { recursive: true });
  const artifacts: Record<string, unknown> = {};
  for (const [stackName, template] of Object.entries(stacks)) {
    const templateFile = `${stackName}.template.json`;
    fs.writeFileSync(path.join(dir, templateFile), JSON.stringify(template, null, 1));
    artifacts[stackName] = {
      type: 'aws:cloudformation:stack',
      environment: 'aws://unknown-account/unknown-region',
      properties: { templateFile },
    };
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }, null, 1));
  return dir;
}
