/**
 * The CLI's argument parser: verbs, their flags, the connection flags, usage text. Pure: it
 * reads nothing but argv and the environment it is given, so it is unit tested as it is.
 */
import { parseArgs } from 'node:util';
import { COMPRESSION_TYPES, GROUP_STATES, STORAGE_MODES, type CompressionType, type GroupStateName, type StorageMode } from '../../protocol/messages.js';
import type { OffsetResetScope, OffsetResetSpec } from '../consumer-groups.js';
import { parsePlanRequest, PlanInputError, PLAN_FLAGS, type PlanRequest } from '../../cost/plan.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Connection {
  endpoint: string;
  outputsFile: string;
  stack: string;
  region: string;
  /** The overall deadline of each produce or fetch, retries included. */
  timeoutMs: number;
}

export type Command =
  | { verb: 'help'; text: string }
  | {
      verb: 'topics create';
      topic: string;
      partitions: number;
      replicationFactor: number;
      minInsyncReplicas?: number;
      uncleanLeaderElection: boolean;
      compressionType?: CompressionType;
      storage?: StorageMode;
    }
  | { verb: 'topics describe'; topic?: string }
  | { verb: 'topics list' }
  | { verb: 'produce'; topic: string; partition: number; keySeparator?: string; acks: 'all' | 1 | 0; batchSize: number }
  | { verb: 'consume'; topic: string; partition?: number; offset: number; follow: boolean; maxRecords?: number; pollIntervalMs: number }
  | { verb: 'brokers list' }
  | { verb: 'brokers register'; broker: string; credential?: string }
  /** `credentials`, when given, one per broker in the same order; otherwise each broker is registered afresh. */
  | { verb: 'brokers run'; brokers: string[]; credentials?: string[]; heartbeatIntervalMs: number }
  | { verb: 'brokers shutdown'; broker: string; incarnation: number; credential: string }
  | { verb: 'elect-leaders'; topic?: string; partitions?: number[] }
  /** `showState`: print each group's state beside it (Kafka's --list --state); `states`: only those. */
  | { verb: 'consumer-groups list'; states?: GroupStateName[]; showState: boolean; json: boolean }
  /** `view`: per partition (Kafka's default, --offsets), per member (--members), or the group itself (--state). */
  | { verb: 'consumer-groups describe'; group: string; view: 'offsets' | 'members' | 'state'; json: boolean }
  | { verb: 'consumer-groups reset-offsets'; group: string; scope: OffsetResetScope; spec: OffsetResetSpec; execute: boolean; json: boolean }
  /** Offline: reads the benchmark results in `benchResults` (default the repository's bench-results/). */
  | { verb: 'plan'; request: PlanRequest; json: boolean; benchResults?: string };

export interface ParsedCli {
  command: Command;
  connection: Connection;
}

export const USAGE = `Usage: npm run cli -- <verb> [flags]

Verbs:
  topics create   --topic T --partitions N --replication-factor N [--min-insync-replicas N] [--unclean-leader-election]
                  [--config compression.type=producer|uncompressed|gzip] [--config storage=replicated|diskless]
                  (storage=diskless: record bytes written once to S3, the replicas' logs hold
                  their coordinates; fixed when the topic is created)
  topics describe [--topic T]                 configs, and partitions with leader, replicas, ISR, leader epoch, high watermark
  topics list                                 topic names, partition counts, replication factors
  produce         --topic T --partition N [--key-separator S] [--acks all|1|0] [--batch-size N]
                  one record per line of stdin; with --key-separator, "key<S>value" (split at the first S)
  consume         --topic T [--partition N [--offset N]] [--follow] [--max-records N] [--poll-interval-ms N]
                  prints "offset<TAB>key<TAB>value" (key "null" when absent); without --partition every
                  partition from offset 0, each line prefixed with its partition;
                  stops at the high watermark, or keeps polling with --follow (Ctrl-C ends it)
  brokers list                                live brokers, incarnations, lease deadlines
  brokers register --broker ID [--credential C]
                  registers the broker's credential, or rotates it (the old one is refused from the
                  broker's next heartbeat on); prints it once: the cluster keeps only a salted hash.
                  Without --credential one is generated (256 random bits); a chosen one is 43 to 256
                  characters of base64 or base64url and should be as random
  brokers run     --broker ID [--broker ID ...] [--credential C ...] [--heartbeat-interval-ms N]
                  simulated brokers heartbeating through the heartbeat function until Ctrl-C
                  (what npm start -- --no-demo leaves to you); with --credential (one per --broker,
                  in order) they use those, otherwise each is registered afresh and its new
                  credential printed (brokers shutdown needs it)
  brokers shutdown --broker ID --incarnation N --credential C
                  controlled shutdown: its leaderships move to in-sync replicas, it leaves the ISRs,
                  its lease is deleted (the incarnation is the one brokers list shows; only the
                  broker's credential proves the request is the broker's)
  elect-leaders   [--topic T [--partition N ...]]
                  preferred-leader election (replicas[0], only if alive and in the ISR), as
                  kafka-leader-election --election-type PREFERRED
  consumer-groups list [--state [S,S...]] [--json]
                  group ids; with --state, each with its state (and only those in the states given:
                  Empty, PreparingRebalance, CompletingRebalance, Stable)
  consumer-groups describe --group G [--members | --state] [--json]
                  per partition: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID
                  CLIENT-ID (a commit no member owns shows "-"); --members: each member and the
                  partitions it holds; --state: state, coordinator, generation, protocol
  consumer-groups reset-offsets --group G (--topic T[:P,P...] | --all-topics)
                  (--to-earliest | --to-latest | --to-offset N | --shift-by N) [--dry-run | --execute] [--json]
                  as kafka-consumer-groups: prints the plan and commits nothing unless --execute;
                  only for a group with no members (Empty): the coordinator refuses a commit
                  outside the group protocol otherwise. An offset past either end of the log is
                  set to that end; --shift-by=-N moves back
  plan            --records-per-second N --record-bytes B --rf R --retention 7d [--min-insync M]
                  [--storage replicated|diskless] [--records-per-call K] [--brokers N] [--partitions P]
                  [--json] [--bench-results DIR]
                  a cluster for that load: the monthly cost line by line beside Kinesis on-demand
                  and MSK Serverless, partitions needed, acks=all latency, broker failures survived;
                  drawn from the measured results in bench-results/ (cost, throughput, latency);
                  retention in ms, s, m, h, d or w; needs no cluster. Diskless, until bench:cost has
                  measured it: a model of the design, labelled so (each flush carries a batch per
                  partition: --partitions)

Connection (every verb):
  --endpoint URL       Lambda endpoint (default $AWS_ENDPOINT_URL, else http://localhost:4566)
  --outputs FILE       stack outputs from cdk deploy --outputs-file (default cdk-outputs.json)
  --stack NAME         the stack in that file (default $STACK_NAME, else PartitionLeadership)
  --region R           (default $AWS_REGION, else us-east-1)
  --timeout-ms N       overall deadline of a produce or fetch, retries included (default 30000)
  --help               this text

Exit codes: 0 done, 1 the call failed (the error is printed), 2 bad arguments.`;

const connectionFlags = ['endpoint', 'outputs', 'stack', 'region', 'timeout-ms', 'help'] as const;
const verbFlags: Record<string, readonly string[]> = {
  'topics create': ['topic', 'partitions', 'replication-factor', 'min-insync-replicas', 'unclean-leader-election', 'config'],
  'topics describe': ['topic'],
  'topics list': [],
  produce: ['topic', 'partition', 'key-separator', 'acks', 'batch-size'],
  consume: ['topic', 'partition', 'offset', 'follow', 'max-records', 'poll-interval-ms'],
  'brokers list': [],
  'brokers register': ['broker', 'credential'],
  'brokers run': ['broker', 'credential', 'heartbeat-interval-ms'],
  'brokers shutdown': ['broker', 'incarnation', 'credential'],
  'elect-leaders': ['topic', 'partition'],
  'consumer-groups list': ['state', 'json'],
  'consumer-groups describe': ['group', 'members', 'state', 'json'],
  'consumer-groups reset-offsets': ['group', 'topic', 'all-topics', 'to-earliest', 'to-latest', 'to-offset', 'shift-by', 'dry-run', 'execute', 'json'],
  plan: [...PLAN_FLAGS, 'json', 'bench-results'],
};

const options = {
  endpoint: { type: 'string' },
  outputs: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  topic: { type: 'string' },
  partitions: { type: 'string' },
  partition: { type: 'string', multiple: true },
  'replication-factor': { type: 'string' },
  'min-insync-replicas': { type: 'string' },
  'unclean-leader-election': { type: 'boolean' },
  config: { type: 'string', multiple: true },
  'key-separator': { type: 'string' },
  acks: { type: 'string' },
  'batch-size': { type: 'string' },
  offset: { type: 'string' },
  follow: { type: 'boolean' },
  'max-records': { type: 'string' },
  'poll-interval-ms': { type: 'string' },
  broker: { type: 'string', multiple: true },
  'heartbeat-interval-ms': { type: 'string' },
  incarnation: { type: 'string' },
  credential: { type: 'string', multiple: true },
  'records-per-second': { type: 'string' },
  'record-bytes': { type: 'string' },
  rf: { type: 'string' },
  'min-insync': { type: 'string' },
  retention: { type: 'string' },
  storage: { type: 'string' },
  'records-per-call': { type: 'string' },
  brokers: { type: 'string' },
  json: { type: 'boolean' },
  'bench-results': { type: 'string' },
  group: { type: 'string' },
  members: { type: 'boolean' },
  /** A value for list (the states to keep), none for describe: a bare --state reaches here as "" (see withBareState). */
  state: { type: 'string' },
  'all-topics': { type: 'boolean' },
  'to-earliest': { type: 'boolean' },
  'to-latest': { type: 'boolean' },
  'to-offset': { type: 'string' },
  'shift-by': { type: 'string' },
  'dry-run': { type: 'boolean' },
  execute: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; strict: true }>>['values'];

export function parseCli(argv: string[], env: Record<string, string | undefined> = {}): ParsedCli {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: withBareState(argv), options, allowPositionals: true, strict: true });
  } catch (error) {
    const [first, ...rest] = (error as Error).message.split('\n');
    // "--rf -1" reads as a flag, not a value: say how to pass one that starts with a dash.
    const dashed = rest.find((line) => line.startsWith('To specify an option argument starting with a dash'));
    throw new UsageError(dashed ? `${first} ${dashed}` : first);
  }
  const { values, positionals } = parsed;
  const connection: Connection = {
    endpoint: values.endpoint ?? env.AWS_ENDPOINT_URL ?? 'http://localhost:4566',
    outputsFile: values.outputs ?? 'cdk-outputs.json',
    stack: values.stack ?? env.STACK_NAME ?? 'PartitionLeadership',
    region: values.region ?? env.AWS_REGION ?? 'us-east-1',
    timeoutMs: integer(values['timeout-ms'], 'timeout-ms', 1) ?? 30_000,
  };
  if (values.help) return { command: { verb: 'help', text: USAGE }, connection };

  const verb = verbOf(positionals);
  const allowed = new Set<string>([...connectionFlags, ...verbFlags[verb]]);
  for (const [flag, value] of Object.entries(values)) {
    if (value !== undefined && !allowed.has(flag)) throw new UsageError(`${verb} takes no --${flag}`);
  }
  return { command: commandOf(verb, values), connection };
}

function verbOf(positionals: string[]): string {
  if (positionals.length === 0) {
    throw new UsageError(
      'a verb is required: topics create|describe|list, produce, consume, brokers list|register|run|shutdown, elect-leaders, consumer-groups list|describe|reset-offsets, plan',
    );
  }
  const [first, second, ...rest] = positionals;
  const twoWords = first === 'topics' || first === 'brokers' || first === 'consumer-groups';
  const verb = twoWords ? `${first} ${second ?? ''}`.trim() : first;
  const extra = twoWords ? rest : positionals.slice(1);
  if (!(verb in verbFlags)) {
    throw new UsageError(
      twoWords && second === undefined ? `"${first}" needs a sub-command: ${Object.keys(verbFlags).filter((name) => name.startsWith(first)).join(', ')}` : `unknown verb "${verb}"`,
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" after ${verb}`);
  return verb;
}

function commandOf(verb: string, values: Values): Command {
  switch (verb) {
    case 'topics create':
      return {
        verb,
        topic: required(values.topic, 'topic'),
        partitions: required(integer(values.partitions, 'partitions', 1), 'partitions'),
        replicationFactor: required(integer(values['replication-factor'], 'replication-factor', 1), 'replication-factor'),
        minInsyncReplicas: integer(values['min-insync-replicas'], 'min-insync-replicas', 1),
        uncleanLeaderElection: values['unclean-leader-election'] ?? false,
        ...topicConfigs(values.config ?? []),
      };
    case 'topics describe':
      return { verb, topic: values.topic };
    case 'topics list':
    case 'brokers list':
      return { verb };
    case 'produce': {
      const acks = values.acks ?? 'all';
      if (acks !== 'all' && acks !== '-1' && acks !== '1' && acks !== '0') throw new UsageError(`--acks must be all, -1, 1 or 0, got "${acks}"`);
      const keySeparator = values['key-separator'];
      if (keySeparator === '') throw new UsageError('--key-separator must not be empty');
      return {
        verb,
        topic: required(values.topic, 'topic'),
        partition: required(integer(single(values.partition, 'partition'), 'partition', 1), 'partition'),
        keySeparator,
        acks: acks === '1' ? 1 : acks === '0' ? 0 : 'all',
        batchSize: integer(values['batch-size'], 'batch-size', 1, 500) ?? 100,
      };
    }
    case 'consume':
      // As kafka-console-consumer: an offset means one partition's offset.
      if (values.offset !== undefined && values.partition === undefined) throw new UsageError('--offset needs --partition');
      return {
        verb,
        topic: required(values.topic, 'topic'),
        partition: integer(single(values.partition, 'partition'), 'partition', 1),
        offset: integer(values.offset, 'offset', 0) ?? 0,
        follow: values.follow ?? false,
        maxRecords: integer(values['max-records'], 'max-records', 1, 1000),
        pollIntervalMs: integer(values['poll-interval-ms'], 'poll-interval-ms', 1) ?? 500,
      };
    case 'brokers register':
      return { verb, broker: oneBroker(values.broker), credential: single(values.credential, 'credential') };
    case 'brokers run': {
      const brokers = values.broker ?? [];
      if (brokers.length === 0 || brokers.some((id) => id === '')) throw new UsageError('--broker ID is required (repeat it for more brokers)');
      const credentials = values.credential;
      if (credentials !== undefined && credentials.length !== brokers.length) {
        throw new UsageError(`--credential must be given once per --broker, in the same order (${brokers.length} brokers, ${credentials.length} credentials)`);
      }
      return { verb, brokers, credentials, heartbeatIntervalMs: integer(values['heartbeat-interval-ms'], 'heartbeat-interval-ms', 1) ?? 2000 };
    }
    case 'brokers shutdown':
      return {
        verb,
        broker: oneBroker(values.broker),
        // The function takes incarnations >= 1 (heartbeats hand out the clock's ms or more).
        incarnation: required(integer(values.incarnation, 'incarnation', 1), 'incarnation'),
        credential: required(single(values.credential, 'credential'), 'credential'),
      };
    case 'elect-leaders': {
      if (values.partition !== undefined && values.topic === undefined) throw new UsageError('--partition needs --topic');
      const partitions = values.partition?.map((raw) => integer(raw, 'partition', 1)!);
      return { verb, topic: values.topic, partitions };
    }
    case 'consumer-groups list':
    case 'consumer-groups describe':
    case 'consumer-groups reset-offsets':
      return consumerGroupsCommand(verb, values);
    case 'plan': {
      const raw = Object.fromEntries(PLAN_FLAGS.map((flag) => [flag, values[flag]]));
      if (values['bench-results'] === '') throw new UsageError('--bench-results must not be empty');
      try {
        return { verb, request: parsePlanRequest(raw), json: values.json ?? false, benchResults: values['bench-results'] };
      } catch (error) {
        if (error instanceof PlanInputError) throw new UsageError(error.message);
        throw error;
      }
    }
    default:
      throw new UsageError(`unknown verb "${verb}"`);
  }
}

/**
 * kafka-consumer-groups takes --state with a value (list: the states to keep) or without one
 * (list: show states; describe: the group's state): parseArgs has no optional values, so a
 * --state followed by nothing or by another flag is passed on as --state= (an empty value).
 */
function withBareState(argv: string[]): string[] {
  return argv.map((arg, index) => (arg === '--state' && (index + 1 === argv.length || argv[index + 1].startsWith('-')) ? '--state=' : arg));
}

function consumerGroupsCommand(verb: 'consumer-groups list' | 'consumer-groups describe' | 'consumer-groups reset-offsets', values: Values): Command {
  const json = values.json ?? false;
  if (verb === 'consumer-groups list') {
    if (values.state === undefined || values.state === '') return { verb, showState: values.state !== undefined, json };
    const states = values.state.split(',').map((raw) => {
      const state = GROUP_STATES.find((name) => name.toLowerCase() === raw.trim().toLowerCase());
      if (!state) throw new UsageError(`--state must be one or more of ${GROUP_STATES.join(', ')} (comma-separated), got "${raw}"`);
      return state;
    });
    return { verb, states: [...new Set(states)], showState: true, json };
  }
  const group = required(values.group, 'group');
  if (verb === 'consumer-groups describe') {
    if (values.state !== undefined && values.state !== '') throw new UsageError(`consumer-groups describe takes --state without a value, got "${values.state}"`);
    if (values.members && values.state !== undefined) throw new UsageError('--members and --state are exclusive: describe shows one view at a time');
    return { verb, group, view: values.members ? 'members' : values.state !== undefined ? 'state' : 'offsets', json };
  }
  if (values['dry-run'] && values.execute) throw new UsageError('--dry-run and --execute are exclusive');
  if ((values.topic === undefined) === (values['all-topics'] === undefined)) throw new UsageError('reset-offsets needs one of --topic T[:P,P...] or --all-topics');
  return { verb, group, scope: values.topic === undefined ? { allTopics: true } : resetTopic(values.topic), spec: resetSpec(values), execute: values.execute ?? false, json };
}

/** kafka-consumer-groups' --topic T or T:P,P (partitions numbered from 1, as everywhere here). */
function resetTopic(raw: string): OffsetResetScope {
  const at = raw.indexOf(':');
  const topic = at < 0 ? raw : raw.slice(0, at);
  if (topic === '') throw new UsageError(`--topic needs a topic name, got "${raw}"`);
  if (at < 0) return { topic };
  const partitions = raw.slice(at + 1).split(',').map((part) => {
    if (!/^\d+$/.test(part.trim()) || Number(part) < 1) throw new UsageError(`--topic ${topic}: partitions must be integers >= 1, comma-separated, got "${part}"`);
    return Number(part);
  });
  const unique = [...new Set(partitions)];
  if (unique.length !== partitions.length) throw new UsageError(`--topic ${topic}: a partition is listed twice in "${raw}"`);
  return { topic, partitions: unique.sort((a, b) => a - b) };
}

function resetSpec(values: Values): OffsetResetSpec {
  const given = (['to-earliest', 'to-latest', 'to-offset', 'shift-by'] as const).filter((flag) => values[flag] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(`reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N${given.length > 1 ? `, got ${given.map((flag) => `--${flag}`).join(' and ')}` : ''}`);
  }
  if (values['to-earliest']) return { to: 'earliest' };
  if (values['to-latest']) return { to: 'latest' };
  if (values['to-offset'] !== undefined) return { to: 'offset', offset: integer(values['to-offset'], 'to-offset', 0)! };
  const raw = values['shift-by']!;
  const by = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(by)) throw new UsageError(`--shift-by must be an integer (negative moves back: --shift-by=-5), got "${raw}"`);
  return { to: 'shift', by };
}

function oneBroker(brokers: string[] | undefined): string {
  if (brokers?.length !== 1 || brokers[0] === '') throw new UsageError('--broker ID is required, once');
  return brokers[0];
}

/** A flag that may be given once only (the parser collects repeats for the verbs that take several). */
function single(raw: string[] | undefined, flag: string): string | undefined {
  if (raw !== undefined && raw.length > 1) throw new UsageError(`--${flag} may be given once`);
  return raw?.[0];
}

/** The topic configs `--config` sets, with the values each takes (kafka-topics' names). */
const TOPIC_CONFIGS = {
  'compression.type': { field: 'compressionType', values: COMPRESSION_TYPES },
  storage: { field: 'storage', values: STORAGE_MODES },
} as const;

/** kafka-topics' --config key=value, for the topic configs this cluster has besides the flags above. */
function topicConfigs(entries: string[]): { compressionType?: CompressionType; storage?: StorageMode } {
  const configs: { compressionType?: CompressionType; storage?: StorageMode } = {};
  const given = new Set<string>();
  for (const entry of entries) {
    const split = entry.indexOf('=');
    if (split < 0) throw new UsageError(`--config takes key=value, got "${entry}"`);
    const [key, value] = [entry.slice(0, split), entry.slice(split + 1)];
    if (!Object.hasOwn(TOPIC_CONFIGS, key)) throw new UsageError(`--config: unknown topic config "${key}" (supported: ${Object.keys(TOPIC_CONFIGS).join(', ')})`);
    const config = TOPIC_CONFIGS[key as keyof typeof TOPIC_CONFIGS];
    if (given.has(key)) throw new UsageError(`--config ${key} may be given once`);
    given.add(key);
    if (!(config.values as readonly string[]).includes(value)) throw new UsageError(`--config ${key} must be one of ${config.values.join(', ')}, got "${value}"`);
    Object.assign(configs, { [config.field]: value });
  }
  return configs;
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

function integer(raw: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}, got "${raw}"`);
  }
  return value;
}
