import { describe, expect, it } from 'vitest';
import { runChaos } from '../../chaos/run.js';
import { stackTarget } from './support.js';

/**
 * A short `npm run chaos` run (test/chaos): its own embedded cloud in fault mode with the
 * stack deployed, brokers killed, paused and shut down, the project's Producer and Consumer
 * writing their histories, and the simulation's checker judging them. Every violation it
 * finds fails the test, with its detail.
 */
describe('chaos: the deployed system under AWS faults and broker faults', () => {
  const target = stackTarget();

  it.skipIf(target.kind !== 'embedded')('loses, duplicates, reorders and tears nothing, and every partition comes back', { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const result = await runChaos({
      seed: 1,
      assemblyDir: target.assemblyDir!,
      stackName: process.env.STACK_NAME ?? 'PartitionLeadership',
      sessionTimeoutMs: target.sessionTimeoutMs,
      faultPhaseMs: 30_000,
      log: (line) => lines.push(line),
    });
    console.log(`[chaos] seed 1: ${result.verdict}; ${result.batchesAcked}/${result.batchesSent} batches acked; faults ${JSON.stringify(result.faults)}`);
    const injected = Object.entries(result.faults).filter(([kind, count]) => kind.startsWith('dynamodb.') && count > 0);
    expect(injected.length, 'DynamoDB faults were injected').toBeGreaterThan(0);
    expect(result.batchesAcked, 'the producers got batches acknowledged').toBeGreaterThan(0);
    expect(result.violations.map((violation) => `${violation.kind} ${violation.partition}: ${violation.detail}`)).toEqual([]);
  });
});
