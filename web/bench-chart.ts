import { readFileSync, writeFileSync } from 'node:fs';
import { renderSvgChart, type ChartSeries } from './svg-chart.js';

export interface FailoverChart {
  svg: string;
  /** One line for the page: what the file held, or why there is no chart. */
  summary: string;
  found: boolean;
}

/**
 * Draws bench-results/failover.json, read tolerantly: the benchmark is being rewritten, so
 * every numeric field of its per-run objects (`runs`, or another array of objects) becomes
 * a series, and a `sessionTimeoutMs` found anywhere becomes a reference line.
 */
export function failoverChartFromFile(file: string): FailoverChart {
  return benchChartFromFile(file, 'failover');
}

/** Any benchmark's JSON in bench-results/, drawn the same tolerant way (other benchmarks write there too). */
export function benchChartFromFile(file: string, name: string): FailoverChart {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return noChart(`No ${name} benchmark results yet (${file}); run \`npm run bench:${name}\`.`, name);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return noChart(`${file} is not JSON: ${(error as Error).message}`, name);
  }
  return name === 'failover' ? failoverChart(data) : benchChart(data, name);
}

export function failoverChart(data: unknown): FailoverChart {
  return benchChart(data, 'failover');
}

function benchChart(data: unknown, name: string): FailoverChart {
  const runs = findRuns(data);
  if (!runs || runs.length === 0) return noChart(`The ${name} results hold no per-run numbers to draw.`, name);
  const fields = [...new Set(runs.flatMap((run) => Object.keys(run).filter((key) => typeof run[key] === 'number')))];
  const series: ChartSeries[] = fields.map((field) => ({
    name: field,
    points: runs.flatMap((run, index) => (typeof run[field] === 'number' ? [{ x: index + 1, y: run[field] }] : [])),
  }));
  const sessionTimeoutMs = findNumber(data, 'sessionTimeoutMs');
  const at = isRecord(data) && typeof data.at === 'string' ? ` (${data.at})` : '';
  const svg = renderSvgChart(series, {
    title: `${name[0].toUpperCase()}${name.slice(1)} benchmark: ${runs.length} runs${at}`,
    xLabel: 'run',
    yLabel: name === 'failover' ? 'ms after the last heartbeat' : fields.every((field) => /Ms$/.test(field)) ? 'ms' : 'value',
    rules: sessionTimeoutMs === undefined ? [] : [{ y: sessionTimeoutMs, label: `session timeout ${sessionTimeoutMs} ms` }],
    // Runs differ by tens of ms over seconds: from zero they would draw one flat line.
    yFromZero: false,
  });
  return { svg, summary: `${runs.length} runs, series: ${fields.join(', ')}`, found: true };
}

/** Writes the chart beside the results (the benchmark calls this after writing its JSON). */
export function writeFailoverChart(jsonFile: string, svgFile = jsonFile.replace(/\.json$/, '.svg')): string {
  writeFileSync(svgFile, failoverChartFromFile(jsonFile).svg);
  return svgFile;
}

function noChart(summary: string, name: string): FailoverChart {
  return { svg: renderSvgChart([], { title: `${name[0].toUpperCase()}${name.slice(1)} benchmark` }), summary, found: false };
}

type Row = Record<string, unknown>;

function findRuns(data: unknown): Row[] | undefined {
  if (Array.isArray(data)) return data.every(isRecord) ? data : undefined;
  if (!isRecord(data)) return undefined;
  if (Array.isArray(data.runs) && data.runs.every(isRecord)) return data.runs;
  for (const value of Object.values(data)) {
    if (Array.isArray(value) && value.length > 0 && value.every(isRecord) && value.some((row) => Object.values(row).some((cell) => typeof cell === 'number'))) {
      return value;
    }
  }
  return undefined;
}

function findNumber(data: unknown, key: string): number | undefined {
  if (!isRecord(data)) return undefined;
  if (typeof data[key] === 'number') return data[key];
  for (const value of Object.values(data)) {
    if (isRecord(value)) {
      const found = findNumber(value, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
