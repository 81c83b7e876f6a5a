import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchChartFromFile, failoverChart } from '../../../web/bench-chart.js';
import { niceTicks, renderSvgChart } from '../../../web/svg-chart.js';

describe('renderSvgChart', () => {
  it('draws one path and one legend entry per series, with escaped names and a reference line', () => {
    const svg = renderSvgChart(
      [
        { name: 'promoted <ms>', points: [{ x: 1, y: 3000 }, { x: 2, y: 3100 }, { x: 3, y: 3050 }] },
        { name: 'first read', points: [{ x: 1, y: 3020 }, { x: 2, y: 3130 }] },
      ],
      { title: 'Failover & reads', rules: [{ y: 3000, label: 'session timeout' }] },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('promoted &lt;ms&gt;');
    expect(svg).toContain('Failover &amp; reads');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).not.toMatch(/NaN|Infinity|http(s)?:\/\/(?!www\.w3\.org)/);
  });

  it('says "no data" rather than failing on empty or non-finite series', () => {
    expect(renderSvgChart([], { title: 't' })).toContain('no data');
    expect(renderSvgChart([{ name: 's', points: [{ x: Number.NaN, y: 1 }] }], { title: 't' })).toContain('no data');
    expect(renderSvgChart([{ name: 's', points: [{ x: 1, y: 5 }] }], { title: 't' })).not.toMatch(/NaN/);
  });

  it('picks round ticks that cover the range', () => {
    expect(niceTicks(0, 3187, 5)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(niceTicks(1, 20, 8)).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(7, 7, 5)).toEqual([0, 7]);
  });
});

describe('failoverChart', () => {
  it('draws every numeric field of the runs, with the session timeout as a rule', () => {
    const chart = failoverChart({ at: '2026-12-01T16:32:54.833Z', settings: { sessionTimeoutMs: 3000 }, runs: [{ promotedMs: 3095, firstReadMs: 3123 }, { promotedMs: 3072, firstReadMs: 3100, note: 'x' }] });
    expect(chart.found).toBe(true);
    expect(chart.summary).toBe('2 runs, series: promotedMs, firstReadMs');
    expect(chart.svg).toContain('session timeout 3000 ms');
  });

  it('reads other shapes tolerantly: a bare array, or runs under another name', () => {
    expect(failoverChart([{ ms: 1 }, { ms: 2 }]).summary).toBe('2 runs, series: ms');
    expect(failoverChart({ samples: [{ detectMs: 10 }] }).summary).toBe('1 runs, series: detectMs');
    expect(failoverChart({ runs: [] }).found).toBe(false);
    expect(failoverChart('nonsense').found).toBe(false);
  });

  it('draws any benchmark file, and says why when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    writeFileSync(join(dir, 'scale.json'), JSON.stringify({ samples: [{ p99Ms: 120 }, { p99Ms: 180 }] }));
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(benchChartFromFile(join(dir, 'scale.json'), 'scale')).toMatchObject({ found: true, summary: '2 runs, series: p99Ms' });
    expect(benchChartFromFile(join(dir, 'scale.json'), 'scale').svg).toContain('Scale benchmark: 2 runs');
    expect(benchChartFromFile(join(dir, 'broken.json'), 'broken').summary).toMatch(/is not JSON/);
    expect(benchChartFromFile(join(dir, 'failover.json'), 'failover').summary).toMatch(/No failover benchmark results yet .*npm run bench:failover/);
    rmSync(dir, { recursive: true, force: true });
  });
});
