/**
 * `npm run sim -- --seeds N [--seed S] [--brokers 3..5] [--rf 2|3] [--acks all|1] [--unclean]
 *  [--min-insync N] [--steps N] [--verbose]`: the deterministic simulation of this folder
 * (cli.ts parses the arguments and runs the seeds).
 * Exit 0 when every seed is clean, 1 when any found a violation, 2 on bad input (nothing run).
 */
import { parseSimArgs, runSeeds, USAGE, UsageError, type SimCommand } from './cli.js';

let command: SimCommand;
try {
  command = parseSimArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`sim: ${error.message}\n${USAGE}`);
  process.exit(2);
}
const summary = await runSeeds(command, (line) => console.log(line));
process.exit(summary.violations > 0 ? 1 : 0);
