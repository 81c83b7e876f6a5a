/**
 * The project's one chart renderer: a line chart (linear or log axes, several series,
 * dashed ones, reference lines) and a grouped bar chart with reference lines. No library, no
 * fonts or scripts to fetch, no Node modules: the output is a standalone SVG document that
 * renders the same in a README, in a browser opened on the file and in the live console, and
 * the console page may import this module too.
 */

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { top: 48, right: 180, bottom: 56, left: 72 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export interface Series {
  name: string;
  points: Array<[number, number]>;
  dashed?: boolean;
  color?: string;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
  /** Horizontal lines, e.g. a target or the session timeout; always inside the y range. */
  referenceLines?: Array<{ value: number; label: string }>;
  /** Start a linear y axis at zero (default), or near the smallest value when differences matter more than size. */
  yFromZero?: boolean;
  /** The same for a linear x axis: seeds or run numbers do not start at zero. */
  xFromZero?: boolean;
  note?: string;
}

export interface BarGroup {
  label: string;
  bars: Array<{ name: string; value: number }>;
}

export interface BarChart {
  title: string;
  yLabel: string;
  groups: BarGroup[];
  referenceLines?: Array<{ value: number; label: string }>;
  note?: string;
}

export const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (value: number) => (Math.abs(value) >= 1000 ? `${Math.round(value).toLocaleString('en')}` : `${Math.round(value * 100) / 100}`);

function scale(min: number, max: number, from: number, to: number, log: boolean) {
  const f = log ? Math.log10 : (v: number) => v;
  const a = f(min);
  const b = f(max);
  return (value: number) => from + ((f(value) - a) / (b - a || 1)) * (to - from);
}

/** Round ticks (1, 2, 5 x 10^n) over [min, max]; whole numbers only when the values are (no run 1.5). */
export function ticks(min: number, max: number, log: boolean, integer = false): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) out.push(10 ** e);
    return out.filter((t) => t >= min * 0.999 && t <= max * 1.001);
  }
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const found = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const nice = integer ? Math.max(1, found) : found;
  const out: number[] = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + 1e-9; t += nice) out.push(Math.round(t * 1e6) / 1e6);
  return out;
}

/** About what fits across the chart in the note's 10 px sans-serif. */
const NOTE_CHARACTERS = 118;

/** Greedy word wrap by an estimated width in characters; a single longer word keeps its own line. */
export function wrap(text: string, characters: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= characters) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Extra label lines below the x axis and a long note make the canvas taller; the plot itself stays where it is. */
function frame(title: string, body: string, note?: string, extraLabelLines = 0): string {
  const noteLines = note ? wrap(note, NOTE_CHARACTERS) : [];
  const height = HEIGHT + extraLabelLines * 13 + Math.max(0, noteLines.length - 1) * 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    body,
    noteLines.map((line, index) => `<text x="${MARGIN.left}" y="${height - 8 - (noteLines.length - 1 - index) * 12}" font-size="10" fill="#555">${esc(line)}</text>`).join('\n'),
    '</svg>',
    '',
  ].join('\n');
}

/** A chart with nothing to draw says so, rather than drawing NaN coordinates. */
function noData(title: string, note?: string): string {
  return frame(title, `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" fill="#666">no data</text>`, note);
}

export function lineChart(chart: LineChart): string {
  const usable = (px: number, py: number) => Number.isFinite(px) && Number.isFinite(py) && (!chart.xLog || px > 0) && (!chart.yLog || py > 0);
  const drawn = chart.series.map((s) => ({ ...s, points: s.points.filter(([px, py]) => usable(px, py)) }));
  const all = drawn.flatMap((s) => s.points);
  if (all.length === 0) return noData(chart.title, chart.note);
  const references = (chart.referenceLines ?? []).filter((ref) => Number.isFinite(ref.value));
  const xs = all.map(([x]) => x);
  const ys = [...all.map(([, y]) => y), ...references.map((ref) => ref.value)];
  const [xMin, xMax] = chart.xLog ? [Math.min(...xs), Math.max(...xs)] : chart.xFromZero === false ? padded(Math.min(...xs), Math.max(...xs)) : [Math.min(0, ...xs), Math.max(...xs)];
  const [yMin, yMax] = chart.yLog
    ? [10 ** Math.floor(Math.log10(Math.min(...ys.filter((y) => y > 0)))), 10 ** Math.ceil(Math.log10(Math.max(...ys)))]
    : chart.yFromZero === false
      ? closeRange(Math.min(...ys), Math.max(...ys))
      : [0, Math.max(...ys) * 1.1 || 1];
  const x = scale(xMin, xMax, MARGIN.left, WIDTH - MARGIN.right, chart.xLog ?? false);
  const y = scale(yMin, yMax, HEIGHT - MARGIN.bottom, MARGIN.top, chart.yLog ?? false);
  const parts: string[] = [];
  for (const t of ticks(yMin, yMax, chart.yLog ?? false)) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of chart.xLog ? ticks(xMin, xMax, true) : ticks(xMin, xMax, false, xs.every(Number.isInteger))) {
    parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${x(t)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - MARGIN.bottom + 36}" text-anchor="middle">${esc(chart.xLabel)}${chart.xLog ? ' (log)' : ''}</text>`);
  parts.push(
    `<text transform="translate(18 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}${chart.yLog ? ' (log)' : ''}</text>`,
  );
  references.forEach((ref) => {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(ref.value)}" y2="${y(ref.value)}" stroke="#000" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 4}" y="${y(ref.value) + 4}" font-size="10">${esc(ref.label)}</text>`);
  });
  drawn.forEach((series, index) => {
    const color = series.color ?? COLORS[index % COLORS.length];
    if (series.points.length === 0) return;
    const path = series.points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [px, py] of series.points) parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${color}"><title>${esc(series.name)}: ${fmt(px)}, ${fmt(py)}</title></circle>`);
    const ly = MARGIN.top + 8 + index * 18;
    parts.push(`<line x1="${WIDTH - MARGIN.right + 10}" x2="${WIDTH - MARGIN.right + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly + 4}" font-size="11">${esc(series.name)}</text>`);
  });
  return frame(chart.title, parts.join('\n'), chart.note);
}

/** A little room either side, so that the first and last points do not sit on the frame. */
function padded(min: number, max: number): [number, number] {
  const pad = (max - min || 1) * 0.03;
  return [min - pad, max + pad];
}

/** Tick-aligned bounds a little beyond [min, max], so that neighbouring values stay apart. */
function closeRange(min: number, max: number): [number, number] {
  const span = max - min || Math.abs(max) || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  return [Math.floor(min / nice) * nice - (min % nice === 0 ? nice : 0), Math.ceil(max / nice) * nice + (max % nice === 0 ? nice : 0)];
}

export function barChart(input: BarChart): string {
  const chart = { ...input, groups: input.groups.map((group) => ({ ...group, bars: group.bars.filter((bar) => Number.isFinite(bar.value)) })) };
  if (chart.groups.every((group) => group.bars.length === 0)) return noData(chart.title, chart.note);
  const names = [...new Set(chart.groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const values = [...chart.groups.flatMap((g) => g.bars.map((b) => b.value)), ...(chart.referenceLines ?? []).map((r) => r.value)];
  const yMax = Math.max(...values) * 1.12 || 1;
  const y = scale(0, yMax, HEIGHT - MARGIN.bottom, MARGIN.top, false);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const groupWidth = plotWidth / chart.groups.length;
  const barWidth = Math.min(40, (groupWidth * 0.8) / names.length);
  const parts: string[] = [];
  let labelRows = 0;
  for (const t of ticks(0, yMax, false)) {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  chart.groups.forEach((group, gi) => {
    const start = MARGIN.left + gi * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, bi) => {
      const color = COLORS[names.indexOf(bar.name) % COLORS.length];
      const bx = start + bi * barWidth;
      parts.push(`<rect x="${bx.toFixed(1)}" y="${y(bar.value).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(HEIGHT - MARGIN.bottom - y(bar.value)).toFixed(1)}" fill="${color}"><title>${esc(bar.name)}: ${fmt(bar.value)}</title></rect>`);
      parts.push(`<text x="${(bx + barWidth / 2).toFixed(1)}" y="${(y(bar.value) - 3).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(bar.value)}</text>`);
    });
    // A label may have several lines ("\n"): groups are narrow.
    const cx = (MARGIN.left + (gi + 0.5) * groupWidth).toFixed(1);
    // Lines wider than the group (about 6 px a character) wrap at spaces.
    const labelLines = group.label.split('\n').flatMap((line) => wrap(line, Math.floor((groupWidth - 4) / 6)));
    labelRows = Math.max(labelRows, labelLines.length);
    const lines = labelLines.map((line, li) => `<tspan x="${cx}" dy="${li === 0 ? 0 : 13}">${esc(line)}</tspan>`);
    parts.push(`<text x="${cx}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${lines.join('')}</text>`);
  });
  (chart.referenceLines ?? []).forEach((ref) => {
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(ref.value)}" y2="${y(ref.value)}" stroke="#000" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 4}" y="${y(ref.value) + 4}" font-size="10">${esc(ref.label)}</text>`);
  });
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${HEIGHT - MARGIN.top - MARGIN.bottom}" fill="none" stroke="#999"/>`);
  parts.push(`<text transform="translate(18 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`);
  if (names.length > 1) {
    names.forEach((name, index) => {
      const ly = MARGIN.top + 8 + (index + (chart.referenceLines?.length ?? 0) + 1) * 18 + 40;
      parts.push(`<rect x="${WIDTH - MARGIN.right + 10}" y="${ly - 8}" width="12" height="12" fill="${COLORS[index % COLORS.length]}"/>`);
      parts.push(`<text x="${WIDTH - MARGIN.right + 26}" y="${ly + 2}" font-size="11">${esc(name)}</text>`);
    });
  }
  // Two label rows fit above the note; more push it down.
  return frame(chart.title, parts.join('\n'), chart.note, Math.max(0, labelRows - 2));
}
