import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../tools/synth.js';
import { BENCHMARKS, BenchResultShapeError, CHART_FILES, costSummary, describeProvenance, drawBenchmark, formatUsd } from '../../../web/bench-charts.js';
import { barChart, lineChart, ticks } from '../../../web/svg-chart.js';

const committed = (name: string): unknown => JSON.parse(readFileSync(join(repoRoot, 'bench-results', `${name}.json`), 'utf8'));

describe('lineChart', () => {
  it('draws one path and one legend entry per series, with escaped names and dashed reference lines', () => {
    const svg = lineChart({
      title: 'Failover & reads',
      xLabel: 'run',
      yLabel: 'ms',
      series: [
        { name: 'promoted <ms>', points: [[1, 3000], [2, 3100], [3, 3050]] },
        { name: 'first read', points: [[1, 3020], [2, 3130]] },
      ],
      referenceLines: [{ value: 3000, label: 'session timeout' }],
      yFromZero: false,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('promoted &lt;ms&gt;');
    expect(svg).toContain('Failover &amp; reads');
    expect(svg).toContain('stroke-dasharray="4 3"');
    expect(svg).toContain('>session timeout</text>');
    expect(svg).not.toMatch(/NaN|Infinity|http(s)?:\/\/(?!www\.w3\.org)/);
  });

  it('says "no data" rather than drawing NaN for empty or non-finite series', () => {
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] })).toContain('no data');
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[Number.NaN, 1]] }] })).toContain('no data');
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 5]] }] })).not.toMatch(/NaN/);
    expect(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', yLog: true, series: [{ name: 's', points: [[1, 0], [2, 10]] }] })).not.toMatch(/NaN|Infinity/);
  });

  it('keeps a range near the values when told not to start at zero, with the reference lines inside it', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 3054], [2, 3199]] }], referenceLines: [{ value: 3000, label: 'r' }], yFromZero: false, xFromZero: false });
    const yTicks = [...svg.matchAll(/text-anchor="end">([\d,]+)<\/text>/g)].map((match) => Number(match[1].replace(',', '')));
    expect(Math.min(...yTicks)).toBeLessThan(3000);
    expect(Math.min(...yTicks)).toBeGreaterThan(2000);
    expect(svg).not.toMatch(/>0<\/text>/);
  });
});

describe('barChart', () => {
  it('draws a bar per value with its label, and a legend when there are several bar names', () => {
    const svg = barChart({ title: 'b', yLabel: 'ms', groups: [{ label: 'one\ntwo', bars: [{ name: 'p50', value: 10 }, { name: 'p99', value: 20 }] }], referenceLines: [{ value: 15, label: 'target' }] });
    expect(svg.match(/<title>[^<]*<\/title><\/rect>/g)).toEqual(['<title>p50: 10</title></rect>', '<title>p99: 20</title></rect>']);
    // The legend: one swatch and name per bar name.
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="12" height="12"/g)).toHaveLength(2);
    expect(svg).toContain('<tspan x="306.0" dy="13">two</tspan>');
    expect(svg).toContain('>target</text>');
    expect(barChart({ title: 'b', yLabel: 'ms', groups: [{ label: 'g', bars: [{ name: 'p50', value: Number.NaN }] }] })).toContain('no data');
  });
});

describe('ticks', () => {
  it('picks round ticks that cover the range, whole numbers for whole-number axes, decades on a log axis', () => {
    expect(ticks(0, 3187, false)).toEqual([0, 1000, 2000, 3000]);
    expect(ticks(0, 3, false)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
    expect(ticks(0, 3, false, true)).toEqual([0, 1, 2, 3]);
    expect(ticks(10, 1000, true)).toEqual([10, 100, 1000]);
  });
});

describe("each benchmark's own chart", () => {
  it('draws every committed canonical result into the chart files it declares', () => {
    const files = BENCHMARKS.flatMap((name) => drawBenchmark(name, committed(name)).charts.map((chart) => chart.file));
    expect(files.sort()).toEqual(Object.keys(CHART_FILES).sort());
    for (const name of BENCHMARKS) {
      const drawn = drawBenchmark(name, committed(name));
      expect(drawn.summary, name).not.toBe('');
      for (const chart of drawn.charts) expect(chart.svg, chart.file).not.toMatch(/NaN|Infinity|no data/);
    }
  });

  it('draws the failover runs against the session timeout and the target, with a headline', () => {
    const drawn = drawBenchmark('failover', { settings: { sessionTimeoutMs: 3000 }, runs: [{ promotedMs: 3095, firstReadMs: 3123 }, { promotedMs: 3072, firstReadMs: 3100 }] });
    expect(drawn.summary).toBe('2 runs: first read served 3100 ms (median) and at most 3123 ms after the last heartbeat; session timeout 3000 ms; cost not measured');
    expect(drawn.charts.map((chart) => chart.file)).toEqual(['failover.svg']);
    expect(drawn.charts[0].svg).toContain('session timeout 3000 ms');
    expect(drawn.charts[0].svg).toContain('first-read p99 target 4000 ms');
    // Only the measured series: no timestamps, settings or counts drawn as if they were times.
    expect(drawn.charts[0].svg.match(/<path /g)).toHaveLength(2);
  });

  it("puts each benchmark's cost beside its speed in the headline", () => {
    const failover = drawBenchmark('failover', {
      settings: { sessionTimeoutMs: 3000 },
      runs: [{ promotedMs: 3095, firstReadMs: 3123 }],
      cost: { pricesReadOn: '2026-12-07', usdPerOperation: 0.0000123, operation: 'failover' },
    });
    expect(failover.summary).toMatch(/session timeout 3000 ms; \$0\.000012 per failover$/);
    const throughput = drawBenchmark('throughput', {
      at: 't',
      raw: { meanPerSecond: 1000 },
      settings: { producers: 8, batch: 98 },
      runs: [{ replicationFactor: 3, rawPutItemPerSecond: 1000, produce: { recordsPerSecond: 600, ratioToRawPut: 0.6 }, consume: { recordsPerSecond: 2000, ratioToRawPut: 2 }, cost: { usdPerMillionRecords: 4.123 } }],
    });
    expect(throughput.summary).toBe('RF 3: produce 0.6x, consume 2x the raw PutItem rate, $4.12 per million records');
    const latency = drawBenchmark('latency', { at: 't', latencyMs: { 'produce rf3 acks=all': { n: 1, p50: 20, p95: 30, p99: 40, max: 40 } }, cost: { 'produce rf3 acks=all': { usdPerMillionRecords: 31.5 } } });
    expect(latency.summary).toContain('$31.50 per million records (one a call)');
  });

  it('formats small dollar amounts by their significant digits', () => {
    expect(formatUsd(2.456)).toBe('2.46');
    expect(formatUsd(0.00012345)).toBe('0.00012');
    expect(formatUsd(0)).toBe('0.00');
    expect(costSummary(undefined)).toBe('cost not measured');
    expect(costSummary({ usdPerOperation: 0.5 })).toBe('$0.50 per operation');
  });

  /** A cost.json's fixed part: one measured shape, the references, the idle floor. */
  const costResult = {
    at: 't',
    prices: { readOn: '2026-12-07' },
    shapes: [{ replicationFactor: 3, recordsPerCall: 100, perMillionRecords: { total: 5.84 }, floorPerMillionRecords: 1.91, ratioToFloor: 3.06 }],
    references: { kinesisOnDemand: { usdPerMillionRecords: 0.114 }, mskServerless: { usdPerMillionRecords: 0.14 } },
    idle: { cluster: { perMonth: 8 }, consumer: { perMonth: 68, partitions: 100 } },
  };

  it("draws the cost benchmark's target shapes beside the fixed ones, and says whether each meets the target", () => {
    const drawn = drawBenchmark('cost', {
      ...costResult,
      doneWhen: {
        replicationFactor: 3,
        target: { maxRatioToFloor: 1.3, maxUsdPerMillionRecords: 2.45 },
        shapes: [
          { name: 'full 16 KiB batches', usdPerMillionRecords: 2.3, ratioToFloor: 1.2, ratioToKinesisOnDemand: 20.2, recordsPerProduceCall: 16, met: true },
          { name: 'one record per send', usdPerMillionRecords: 30, ratioToFloor: 15.7, ratioToKinesisOnDemand: 263, recordsPerProduceCall: 1, met: false },
        ],
      },
    });
    expect(drawn.summary).toContain(
      'target at RF 3, default clients: full 16 KiB batches $2.3 (1.2x floor, 20.2x Kinesis, 16/call) met, one record per send $30 (15.7x floor, 263x Kinesis, 1/call) not met',
    );
    const svg = drawn.charts[0].svg;
    expect(svg).toContain('<title>RF 3: 2.3</title>');
    expect(svg).toContain('<title>RF 3: 30</title>');
    expect(svg).toContain('>target $2.45</text>');
  });

  it("draws the diskless shape beside them when the result has it, with its latency and verdict", () => {
    const drawn = drawBenchmark('cost', {
      ...costResult,
      diskless: { replicationFactor: 3, partitions: 16, offeredRecordsPerSecond: 5000, usdPerMillionRecords: 0.09, ratioToKinesisOnDemand: 0.79, acksAllLatencyMs: { p50: 260, p99: 420 }, met: true },
    });
    expect(drawn.summary).toContain('diskless RF 3, 5000/s over 16 partitions: $0.09 per million (0.79x Kinesis), acks=all p50 260 ms, p99 420 ms, target met');
    expect(drawn.charts[0].svg).toContain('<title>RF 3: 0.09</title>');
  });

  it('refuses a result that lacks what its chart needs, naming the file and the field', () => {
    expect(() => drawBenchmark('scale', { samples: [{ p99Ms: 120 }] })).toThrow(new BenchResultShapeError('scale.json has no "points" to draw'));
    expect(() => drawBenchmark('failover', { runs: [{ promotedMs: 1 }] })).toThrow('failover.json: not every entry of "runs" has "firstReadMs"');
    expect(() => drawBenchmark('failover', { runs: [{ promotedMs: 1, firstReadMs: 2 }] })).toThrow('failover.json has no settings.sessionTimeoutMs');
    expect(() => drawBenchmark('latency', [])).toThrow('latency.json is not a JSON object');
  });
});

describe('describeProvenance', () => {
  it('says what a result came from, in the new shape and in older ones', () => {
    expect(
      describeProvenance({
        command: 'npm run bench:failover',
        commit: { sha: '0123456789abcdef', dirty: true },
        machine: { cpus: 2, model: 'Some CPU', memoryMiB: 7936, node: 'v20.20.2', loadAverage1m: 1.5 },
        at: '2026-01-01T00:00:00.000Z',
      }),
    ).toBe('npm run bench:failover · commit 0123456 with uncommitted changes · 2 CPUs, Some CPU, 7.8 GiB, Node v20.20.2, load 1.5 at start · 2026-01-01T00:00:00.000Z');
    expect(describeProvenance({ command: 'npm run chaos', commit: 'a3b7ea559b81', machine: { node: 'v20', cpus: 2 }, startedAt: 'T' })).toBe('npm run chaos · commit a3b7ea5 · 2 CPUs, Node v20 · T');
    expect(describeProvenance({ machine: 'unknown', commit: { sha: 'cf4f6b1', source: 'from git history' } })).toBe('commit cf4f6b1 (from git history) · machine unknown');
    expect(describeProvenance(null)).toBe('');
  });
});
