import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanInputError, PlanUnavailableError } from '../../../cost/plan.js';
import { DEFAULT_BENCH_RESULTS_DIR } from '../../../cost/measurements.js';
import { CommitRateObserver } from '../../../web/produce-rate.js';
import type { TopicRow } from '../../../web/snapshot.js';
import { planTopic, TopicPlanError } from '../../../web/topic-plan.js';

const partition = (Partition: number, HighWatermark: number) =>
  ({ Topic: 'orders', Partition, Leader: 'A', Replicas: ['A', 'B', 'C'], Isr: ['A', 'B', 'C'], LeaderEpoch: 0, HighWatermark, State: 'ONLINE' }) as unknown as TopicRow['partitions'][number];
const topic = (highWatermarks: number[], extra: Partial<TopicRow> = {}): TopicRow => ({
  topic: 'orders',
  partitionCount: highWatermarks.length,
  replicationFactor: 3,
  minInsyncReplicas: 2,
  partitions: highWatermarks.map((hw, index) => partition(index + 1, hw)),
  ...extra,
});

describe('the commit rate the console observes', () => {
  it('is how far the sum of high watermarks moved over the window, once a second of samples exists', () => {
    const rates = new CommitRateObserver(10_000);
    rates.observe(0, [topic([0, 0])]);
    rates.observe(500, [topic([5, 5])]);
    expect(rates.recordsPerSecond('orders')).toBeUndefined();
    rates.observe(2000, [topic([20, 20])]);
    expect(rates.recordsPerSecond('orders')).toBe(20);
    // Past the window, the oldest samples go: 12 s → 22 s moved 200 - 100 records.
    rates.observe(12_000, [topic([50, 50])]);
    rates.observe(22_000, [topic([100, 100])]);
    expect(rates.recordsPerSecond('orders')).toBe(10);
    expect(rates.recordsPerSecond('other')).toBeUndefined();
  });

  it('starts over when the sum falls (another log) and forgets topics that are gone', () => {
    const rates = new CommitRateObserver(10_000);
    rates.observe(0, [topic([100])]);
    rates.observe(2000, [topic([120])]);
    rates.observe(3000, [topic([0])]);
    expect(rates.recordsPerSecond('orders')).toBeUndefined();
    rates.observe(5000, [topic([10])]);
    expect(rates.recordsPerSecond('orders')).toBe(5);
    rates.observe(6000, []);
    expect(rates.recordsPerSecond('orders')).toBeUndefined();
  });
});

describe("the plan for a running cluster's topic", () => {
  const query = (fields: Record<string, string>) => new URLSearchParams({ topic: 'orders', 'record-bytes': '1024', retention: '7d', ...fields });

  it("takes the topic's RF and min.insync.replicas, the live brokers, and the observed rate when none is entered", async () => {
    const answer = await planTopic(query({}), [topic([0], { committedRecordsPerSecond: 250 })], 4, DEFAULT_BENCH_RESULTS_DIR);
    expect(answer).toMatchObject({ topic: 'orders', replicationFactor: 3, minInsyncReplicas: 2, brokers: 4, recordsPerSecond: 250, rateSource: 'observed' });
    expect(answer.lines[0]).toMatch(/^Plan: 250 records\/s of 1024 B .* RF 3, min\.insync\.replicas 2, retention 7d, 16 records per produce call, 4 brokers$/);
    const entered = await planTopic(query({ 'records-per-second': '1000' }), [topic([0], { committedRecordsPerSecond: 250 })], 1, DEFAULT_BENCH_RESULTS_DIR);
    expect(entered).toMatchObject({ recordsPerSecond: 1000, rateSource: 'entered', brokers: 3 });
  });

  it('asks for a rate when none was observed, and names bad fields as the CLI does', async () => {
    await expect(planTopic(query({}), [topic([0])], 3, DEFAULT_BENCH_RESULTS_DIR)).rejects.toThrow(/--records-per-second is required: the console has not watched "orders" for 10 s yet/);
    await expect(planTopic(query({}), [topic([0], { committedRecordsPerSecond: 0 })], 3, DEFAULT_BENCH_RESULTS_DIR)).rejects.toThrow(/"orders" committed no records in the last 10 s/);
    await expect(planTopic(query({ topic: 'ghosts' }), [topic([0])], 3, DEFAULT_BENCH_RESULTS_DIR)).rejects.toThrow(TopicPlanError);
    await expect(planTopic(query({ 'records-per-second': '-3' }), [topic([0])], 3, DEFAULT_BENCH_RESULTS_DIR)).rejects.toThrow(PlanInputError);
    await expect(planTopic(query({ 'records-per-second': '5', retention: '3 years' }), [topic([0])], 3, DEFAULT_BENCH_RESULTS_DIR)).rejects.toThrow(/^--retention/);
    await expect(planTopic(query({ 'records-per-second': '5' }), [topic([0])], 3, '/nonexistent-bench-results')).rejects.toThrow(PlanUnavailableError);
  });

  it("plans a diskless topic as diskless: from bench:cost's diskless shape once measured, else the design's model over its partitions", async () => {
    const diskless = topic([0, 0, 0, 0], { storage: 'diskless' });
    const answer = await planTopic(query({ 'records-per-second': '5000' }), [diskless], 3, DEFAULT_BENCH_RESULTS_DIR);
    const text = answer.lines.join('\n');
    expect(text).toMatch(/^Plan: 5,000 records\/s of 1024 B .*, diskless, RF 3/);
    const costs = JSON.parse(readFileSync(join(DEFAULT_BENCH_RESULTS_DIR, 'cost.json'), 'utf8')) as { diskless?: unknown };
    if (costs.diskless) expect(text).toMatch(/measured \(embedded cloud, bench:cost, diskless shape, RF 3\)/);
    else expect(text).toMatch(/batches\/s over 4 partitions|partitions: 4/);
    // A storage mode entered in the form wins over the topic's.
    const replicated = await planTopic(query({ 'records-per-second': '5000', storage: 'replicated' }), [diskless], 3, DEFAULT_BENCH_RESULTS_DIR);
    expect(replicated.lines[0]).toMatch(/, replicated, RF 3/);
  });
});
