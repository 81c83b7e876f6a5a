/**
 * A self-contained SVG line chart of {x, y} series: no library, no fonts or scripts to
 * fetch, so it renders the same in the console page, in a browser opened on the file, and
 * in a README. Benchmarks reuse it to write their charts next to their JSON.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** CSS colour; picked from a fixed palette when omitted. */
  color?: string;
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Horizontal reference lines, e.g. the session timeout. */
  rules?: Array<{ y: number; label: string }>;
  /** Start the y axis at zero (default) rather than at the smallest value. */
  yFromZero?: boolean;
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

export function renderSvgChart(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 320;
  const margin = { top: 48, right: 16, bottom: 44, left: 64 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = series.flatMap((one) => one.points).filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y));
  const ruleValues = (options.rules ?? []).map((rule) => rule.y).filter(Number.isFinite);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(options.title)}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (points.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#666">no data</text>`, '</svg>');
    return parts.join('\n');
  }

  const xs = points.map((point) => point.x);
  const ys = [...points.map((point) => point.y), ...ruleValues];
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMin = options.yFromZero === false ? Math.min(...ys) : Math.min(0, ...ys);
  const yTicks = niceTicks(yMin, Math.max(...ys), 5);
  const yLow = yTicks[0];
  const yHigh = yTicks[yTicks.length - 1];
  // A single x (one run) still needs a non-zero span to place it.
  const xSpan = xMax === xMin ? 1 : xMax - xMin;
  const ySpan = yHigh === yLow ? 1 : yHigh - yLow;
  const px = (x: number) => margin.left + (xMax === xMin ? plotWidth / 2 : ((x - xMin) / xSpan) * plotWidth);
  const py = (y: number) => margin.top + plotHeight - ((y - yLow) / ySpan) * plotHeight;

  parts.push(`<g stroke="#e5e7eb">`);
  for (const tick of yTicks) parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${fmt(py(tick))}" y2="${fmt(py(tick))}"/>`);
  parts.push('</g>', '<g fill="#374151" text-anchor="end">');
  for (const tick of yTicks) parts.push(`<text x="${margin.left - 6}" y="${fmt(py(tick) + 4)}">${formatNumber(tick)}</text>`);
  parts.push('</g>', '<g fill="#374151" text-anchor="middle">');
  // Runs and counts are whole numbers: no tick at run 1.5.
  const integerX = xs.every(Number.isInteger);
  for (const tick of niceTicks(xMin, xMax, 8).filter((tick) => tick >= xMin && tick <= xMax && (!integerX || Number.isInteger(tick)))) {
    parts.push(`<text x="${fmt(px(tick))}" y="${margin.top + plotHeight + 16}">${formatNumber(tick)}</text>`);
  }
  parts.push('</g>');
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#9ca3af"/>`);
  if (options.xLabel) parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="#111827">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    parts.push(`<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#111827">${escapeXml(options.yLabel)}</text>`);
  }
  for (const rule of options.rules ?? []) {
    if (!Number.isFinite(rule.y)) continue;
    const y = fmt(py(rule.y));
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#6b7280" stroke-dasharray="4 3"/>`);
    // Below the line, unless that would fall under the plot's bottom edge.
    const labelY = py(rule.y) + 12 > margin.top + plotHeight - 2 ? py(rule.y) - 4 : py(rule.y) + 12;
    parts.push(`<text x="${margin.left + plotWidth - 4}" y="${fmt(labelY)}" text-anchor="end" fill="#4b5563">${escapeXml(rule.label)}</text>`);
  }

  series.forEach((one, index) => {
    const color = one.color ?? palette[index % palette.length];
    const valid = one.points.filter((point) => Number.isFinite(point.x) && Number.isFinite(point.y)).sort((a, b) => a.x - b.x);
    if (valid.length > 1) {
      const path = valid.map((point, at) => `${at === 0 ? 'M' : 'L'}${fmt(px(point.x))} ${fmt(py(point.y))}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    parts.push(`<g fill="${color}">`);
    for (const point of valid) parts.push(`<circle cx="${fmt(px(point.x))}" cy="${fmt(py(point.y))}" r="2.5"><title>${escapeXml(`${one.name}: ${formatNumber(point.x)}, ${formatNumber(point.y)}`)}</title></circle>`);
    parts.push('</g>');
    // One legend row above the plot, so it never hides a point.
    const legendX = margin.left + index * 160;
    parts.push(`<rect x="${legendX}" y="${margin.top - 17}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${margin.top - 8}" fill="#111827">${escapeXml(one.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Round tick values (1, 2, 5 x 10^n steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) return min === 0 ? [0, 1] : [Math.min(0, min), Math.max(0, max)];
  const rough = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let tick = Math.floor(min / step) * step; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toFixed(10)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toFixed(10)));
  return ticks;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}

function fmt(value: number): string {
  return value.toFixed(1);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char] ?? char);
}
