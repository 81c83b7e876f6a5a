/**
 * `npm run bench:plot`: draws each benchmark's charts (web/bench-charts.ts) from its result in
 * bench-results/ and writes them beside it (failover.svg, scale.svg, scale-served.svg, ...),
 * the same charts the live console shows. Runs at the end of `npm run bench`; a benchmark
 * without a result is skipped, one whose result cannot be drawn is named and fails the run.
 */
import { BENCHMARKS, drawBenchmark } from '../../web/bench-charts.js';
import { readResult, writeText } from './lib/results.js';

const written: string[] = [];
const failed: string[] = [];
for (const name of BENCHMARKS) {
  const result = readResult<unknown>(name);
  if (result === undefined) continue;
  try {
    for (const chart of drawBenchmark(name, result).charts) {
      writeText(chart.file, chart.svg);
      written.push(chart.file);
    }
  } catch (error) {
    failed.push(`${name}: ${(error as Error).message}`);
  }
}

console.log(written.length > 0 ? `plots: ${written.map((file) => `bench-results/${file}`).join(', ')}` : 'no results to plot');
if (failed.length > 0) {
  console.error(`not drawn:\n${failed.join('\n')}`);
  process.exitCode = 1;
}
