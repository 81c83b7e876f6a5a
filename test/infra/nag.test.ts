/**
 * cdk-nag's AwsSolutions rules over the synthesized stack, as `cdk synth -c nag=true`
 * runs them (cdk-nag 3 is a CDK policy-validation plugin: its findings land in the cloud
 * assembly's validation report, not in annotations). Every finding is fixed or
 * acknowledged in infra/ with its reason, next to the resource it is about.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, DefaultStackSynthesizer, Validations, type Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { readLeadershipContext } from '../../infra/context.js';
import { PartitionLeadershipStack } from '../../infra/stacks/partition-leadership-stack.js';

interface ReportViolation {
  ruleName: string;
  severity: string;
  violatingConstructs: Array<{ constructPath: string }>;
}

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * Synthesizes the stack under `context` with the AwsSolutions pack registered, and returns
 * its unacknowledged findings (errors and warnings) as "rule (severity) construct path".
 * Bundling is skipped: the rules read the template, not the code.
 */
function nag(context: Record<string, unknown>, addToStack?: (stack: Stack) => void): { findings: string[]; stack: Stack } {
  const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const { stackName, ...props } = readLeadershipContext(app);
  const stack = new PartitionLeadershipStack(app, stackName, {
    ...props,
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
  });
  addToStack?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // A finding of either severity fails the synth (and writes the report first).
  let failure: Error | undefined;
  try {
    app.synth();
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ pluginName: string; violations: ReportViolation[] }>;
  };
  const findings = report.pluginReports
    .filter((plugin) => plugin.pluginName === 'AwsSolutions')
    .flatMap((plugin) => plugin.violations)
    .flatMap((violation) => violation.violatingConstructs.map((c) => `${violation.ruleName} (${violation.severity}) ${c.constructPath}`));
  if (findings.length === 0 && failure !== undefined) throw failure;
  return { findings, stack };
}

/** Every acknowledgment recorded under `scope`: [construct path, rule id, reason]. */
function acknowledgments(scope: IConstruct): Array<[string, string, string]> {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]): [string, string, string] => [construct.node.path, id.replace(/^annotation::/i, ''), reason]),
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  it('find nothing unacknowledged in the default stack (data retained, reservations on)', () => {
    expect(nag({}).findings).toEqual([]);
  });

  it('find nothing unacknowledged in a throwaway stack either (retainData=false, no reservations, produce capped)', () => {
    const context = { retainData: 'false', heartbeatReservedConcurrency: 'none', failureDetectorReservedConcurrency: 'none', produceReservedConcurrency: 100 };
    expect(nag(context).findings).toEqual([]);
  });

  it('do report what is not acknowledged (the harness is not blind): a bare queue', () => {
    const { findings } = nag({}, (stack) => new sqs.Queue(stack, 'Unprotected'));
    expect(findings).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SQS3 \(error\) .*\/Unprotected\/Resource$/)]));
  });

  it('every acknowledgment is a single rule (finding-level for IAM5), on the construct it is about, with a reason of its own', () => {
    const acks = acknowledgments(nag({}).stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const [path, id, reason] of acks) {
      expect(id, path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      if (id.startsWith('AwsSolutions-IAM5')) expect(id, `${path}: IAM5 names the finding it accepts`).toMatch(/\[.+\]$/);
      expect(reason.length, `${path} ${id}: a reason that says why`).toBeGreaterThan(60);
      // Never the whole stack: each acknowledgment sits on the resource (or construct) it is about.
      expect(path.split('/').length, `${path} ${id}`).toBeGreaterThan(1);
    }
    // The accepted findings, by rule: the runtime (every function), the DLQs and the event queue
    // without DLQs of their own, ListStreams on '*' (stream functions), no PITR on the leases.
    const rules = [...new Set(acks.map(([, id]) => id))].sort();
    // And the diskless objects: object keys under their prefix, and no access logs for the bucket.
    expect(rules).toEqual([
      'AwsSolutions-DDB3',
      'AwsSolutions-IAM5[Resource::*]',
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<ObjectsBucket[0-9A-F]+\.Arn>\/objects\/\*\]$/),
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SQS3',
    ]);
  });
});
