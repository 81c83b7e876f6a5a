/**
 * `npm run cli -- <verb> [flags]`: topics create|describe|list, produce, consume, brokers list
 * against the deployed functions on any endpoint (see client/cli/args.ts or --help).
 */
import { runCli } from '../client/cli/run.js';
import { useDummyCredentialsIfUnset } from '../tools/local-env.js';

useDummyCredentialsIfUnset();
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
