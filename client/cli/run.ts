/**
 * The CLI's verbs on top of the client: admin calls through LeadershipClient, produce
 * through Producer, consume through Consumer. `scripts/cli.ts` is its entry point.
 */
import { createInterface } from 'node:readline';
import { readMeasurements } from '../../cost/measurements.js';
import { formatPlan, planCluster, PlanUnavailableError } from '../../cost/plan.js';
import type { Readable } from 'node:stream';
import { BrokerSimulator, registerCredentials } from '../broker-simulator.js';
import { Consumer } from '../consumer.js';
import { ConsumerGroupStateError, describeConsumerGroups, listConsumerGroups, resetConsumerGroupOffsets } from '../consumer-groups.js';
import { LeadershipClient, RemoteFunctionError, type PartitionView } from '../lambda-client.js';
import { Producer, type ProducerRecord } from '../producer.js';
import { ClientError, ClientTimeoutError, systemClock } from '../retry.js';
import { readOutputsFile } from '../stack-outputs.js';
import { parseCli, UsageError, type Command, type Connection } from './args.js';
import { formatGroupList, formatGroupMembers, formatGroupOffsets, formatGroupState, formatResetPlan, groupNotes } from './consumer-groups-format.js';

export interface CliIo {
  stdin: Readable;
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  /** Ends `consume --follow` (the entry point aborts it on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Builds the client (tests pass one with a fake transport). */
  connect?: (connection: Connection) => LeadershipClient;
}

/** Runs one CLI invocation; resolves to the exit code (0 done, 1 the call failed, 2 bad arguments). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`cli: ${error.message}`);
    io.err('Run "npm run cli -- --help" for usage.');
    return 2;
  }
  const { command, connection } = parsed;
  if (command.verb === 'help') {
    io.out(command.text);
    return 0;
  }
  if (command.verb === 'plan') return plan(command, io);
  let client: LeadershipClient;
  try {
    client = (io.connect ?? defaultConnect)(connection);
  } catch (error) {
    io.err(`cli: ${(error as Error).message}`);
    return 2;
  }
  try {
    await execute(command, client, connection, io);
    return 0;
  } catch (error) {
    io.err(`cli: ${describeError(error)}`);
    return error instanceof ClientError ? 2 : 1;
  } finally {
    client.close();
  }
}

function defaultConnect(connection: Connection): LeadershipClient {
  const outputs = readOutputsFile(connection.outputsFile, connection.stack);
  return new LeadershipClient(outputs, { endpoint: connection.endpoint, region: connection.region });
}

function describeError(error: unknown): string {
  if (error instanceof RemoteFunctionError || error instanceof ClientTimeoutError || error instanceof ClientError || error instanceof ConsumerGroupStateError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Needs no cluster: the plan is drawn from the benchmark results alone. */
async function plan(command: Extract<Command, { verb: 'plan' }>, io: CliIo): Promise<number> {
  try {
    const planned = planCluster(command.request, await readMeasurements(command.benchResults));
    if (command.json) io.out(JSON.stringify(planned, null, 2));
    else for (const line of formatPlan(planned)) io.out(line);
    return 0;
  } catch (error) {
    if (!(error instanceof PlanUnavailableError)) throw error;
    io.err(`cli: ${error.message}`);
    return 1;
  }
}

async function execute(command: Exclude<Command, { verb: 'help' | 'plan' }>, client: LeadershipClient, connection: Connection, io: CliIo): Promise<void> {
  switch (command.verb) {
    case 'topics create': {
      const created = await client.createTopic({
        topic: command.topic,
        partitions: command.partitions,
        replicationFactor: command.replicationFactor,
        ...(command.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: command.minInsyncReplicas }),
        uncleanLeaderElection: command.uncleanLeaderElection,
        ...(command.compressionType === undefined ? {} : { compressionType: command.compressionType }),
        ...(command.storage === undefined ? {} : { storage: command.storage }),
      });
      io.out(
        `Created topic "${created.topic}": ${created.partitions} partition(s), replication factor ${created.replicationFactor}, min.insync.replicas ${created.minInsyncReplicas}, compression.type ${created.compressionType}, storage ${created.storage ?? 'replicated'}.`,
      );
      if (created.eventsPublished === false) io.err(`cli: the topic was created, but its leadership events were not published (${created.eventsError ?? 'no reason given'})`);
      for (const line of partitionLines(created.assignments)) io.out(line);
      return;
    }
    case 'topics describe': {
      const description = await client.describe(command.topic);
      for (const topic of description.topics) {
        // As kafka-topics --describe: the topic's configs after its counts.
        const configs = `min.insync.replicas=${topic.minInsyncReplicas},unclean.leader.election.enable=${topic.uncleanLeaderElection},compression.type=${topic.compressionType},storage=${topic.storage ?? 'replicated'}`;
        io.out(`Topic: ${topic.topic}\tPartitionCount: ${topic.partitionCount}\tReplicationFactor: ${topic.replicationFactor}\tConfigs: ${configs}`);
        for (const line of partitionLines(topic.partitions)) io.out(line);
      }
      return;
    }
    case 'topics list': {
      const description = await client.describe();
      for (const topic of description.topics) io.out(`${topic.topic}\tpartitions ${topic.partitionCount}\treplication factor ${topic.replicationFactor}`);
      return;
    }
    case 'brokers list': {
      const { brokers } = await client.describe();
      const now = Date.now();
      for (const broker of brokers) {
        const lease = broker.alive ? `lease ends in ${broker.deadlineMs - now} ms` : `lease lapsed ${now - broker.deadlineMs} ms ago`;
        io.out(`${broker.brokerId}\tincarnation ${broker.incarnation}\t${broker.alive ? 'alive' : 'dead'}\t${lease}`);
      }
      return;
    }
    case 'brokers register': {
      const registered = await client.registerBroker(command.broker, command.credential);
      io.out(
        registered.rotated
          ? `Rotated the credential of broker ${registered.brokerId}: its old one is refused from its next heartbeat on. The new one (shown once):`
          : `Registered broker ${registered.brokerId}. Its credential (shown once; the cluster keeps only a salted hash):`,
      );
      io.out(registered.credential);
      return;
    }
    case 'brokers run': {
      const given = command.credentials;
      const register = registerCredentials(client);
      const simulator = new BrokerSimulator(client, {
        heartbeatIntervalMs: command.heartbeatIntervalMs,
        credentials: given
          ? (brokerId) => given[command.brokers.indexOf(brokerId)]
          : async (brokerId) => {
              const credential = await register(brokerId);
              io.out(`Registered broker ${brokerId}; its credential (for brokers shutdown): ${credential}`);
              return credential;
            },
        onError: (brokerId, error) => io.err(`heartbeat of ${brokerId} failed: ${error.message}`),
      });
      await simulator.start(command.brokers);
      io.out(`Brokers ${command.brokers.join(', ')} heartbeating every ${command.heartbeatIntervalMs} ms; Ctrl-C stops them (their leases then lapse).`);
      await aborted(io.signal);
      await simulator.stop();
      return;
    }
    case 'brokers shutdown': {
      const result = await client.controlledShutdown(command.broker, command.incarnation, command.credential);
      io.out(`Broker ${command.broker} shut down: leaderships moved ${list(result.movedLeaderships)}, ISRs left ${list(result.leftIsrs)}.`);
      if (result.remainingLeaderships.length > 0) {
        io.out(`No other in-sync replica could take ${list(result.remainingLeaderships)}: they fail over when the lease is gone.`);
      }
      return;
    }
    case 'elect-leaders': {
      const events = await client.electLeaders({ topic: command.topic, partitions: command.partitions });
      if (events.length === 0) io.out('No partition moved: every leader is its preferred replica, or that replica is not alive and in sync.');
      for (const event of events) {
        io.out(`${event.topic}-${event.partition}: leader ${event.previousLeader ?? 'none'} -> ${event.newLeader ?? 'none'} (epoch ${event.leaderEpoch})`);
      }
      return;
    }
    case 'consumer-groups list':
    case 'consumer-groups describe':
    case 'consumer-groups reset-offsets':
      return consumerGroups(command, client, connection, io);
    case 'produce':
      return produce(command, client, connection, io);
    case 'consume':
      return consume(command, client, connection, io);
  }
}

async function produce(command: Extract<Command, { verb: 'produce' }>, client: LeadershipClient, connection: Connection, io: CliIo): Promise<void> {
  // The CLI gathers --batch-size lines into one send itself and awaits each: lingering would only delay it.
  const producer = new Producer(client, { deliveryTimeoutMs: connection.timeoutMs, lingerMs: 0 });
  let batch: ProducerRecord[] = [];
  let lineNumber = 0;
  let total = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const ack = await producer.send(command.topic, command.partition, batch, { acks: command.acks });
    const where = command.acks === 0 ? 'unacknowledged (acks=0)' : `at offsets ${ack.baseOffset}-${ack.lastOffset}`;
    io.out(`Produced ${batch.length} record(s) to ${command.topic}-${command.partition} ${where} (leader ${ack.leader}, epoch ${ack.leaderEpoch}).`);
    total += batch.length;
    batch = [];
  };
  for await (const line of createInterface({ input: io.stdin, crlfDelay: Infinity })) {
    lineNumber += 1;
    batch.push(recordOf(line, lineNumber, command.keySeparator));
    if (batch.length >= command.batchSize) await flush();
  }
  await flush();
  if (total === 0) io.err('cli: no lines on stdin, nothing produced');
}

function recordOf(line: string, lineNumber: number, separator: string | undefined): ProducerRecord {
  if (separator === undefined) return { value: line };
  const at = line.indexOf(separator);
  if (at < 0) throw new ClientError(`line ${lineNumber} has no key separator "${separator}": ${JSON.stringify(line)}`);
  return { key: line.slice(0, at), value: line.slice(at + separator.length) };
}

async function consume(command: Extract<Command, { verb: 'consume' }>, client: LeadershipClient, connection: Connection, io: CliIo): Promise<void> {
  // It paces its own empty polls (--poll-interval-ms, when following), so a poll need not wait.
  const consumer = new Consumer(client, { defaultApiTimeoutMs: connection.timeoutMs, maxPollRecords: command.maxRecords, fetchMaxWaitMs: 0 });
  const partitions =
    command.partition !== undefined
      ? [command.partition]
      : (await client.describe(command.topic)).topics[0].partitions.map((view) => view.Partition);
  consumer.assign(partitions.map((partition) => ({ topic: command.topic, partition, offset: command.offset })));
  const labelled = partitions.length > 1;
  while (!io.signal?.aborted) {
    const records = await consumer.poll();
    for (const record of records) {
      io.out(`${labelled ? `${record.partition}\t` : ''}${record.offset}\t${record.key ?? 'null'}\t${record.value}`);
    }
    if (records.length > 0) continue;
    if (!command.follow) return;
    await Promise.race([systemClock.sleep(command.pollIntervalMs), aborted(io.signal)]);
  }
}

type ConsumerGroupsCommand = Extract<Command, { verb: 'consumer-groups list' | 'consumer-groups describe' | 'consumer-groups reset-offsets' }>;

/** kafka-consumer-groups: tables on stdout (or JSON with --json), what Kafka's tool warns about on stderr. */
async function consumerGroups(command: ConsumerGroupsCommand, client: LeadershipClient, connection: Connection, io: CliIo): Promise<void> {
  const options = { timeoutMs: connection.timeoutMs };
  const print = (value: unknown, lines: () => string[]) => {
    if (command.json) io.out(JSON.stringify(value, null, 2));
    else for (const line of lines()) io.out(line);
  };
  switch (command.verb) {
    case 'consumer-groups list': {
      const groups = await listConsumerGroups(client, command.states, options);
      print({ groups }, () => formatGroupList(groups, command.showState));
      return;
    }
    case 'consumer-groups describe': {
      const [view] = await describeConsumerGroups(client, [command.group], options);
      if (view.state === 'Dead') throw new ConsumerGroupStateError(`Consumer group "${command.group}" does not exist.`);
      if (!command.json) for (const note of groupNotes(view)) io.err(`cli: ${note}`);
      const format = { offsets: formatGroupOffsets, members: formatGroupMembers, state: formatGroupState }[command.view];
      print(view, () => format(view));
      return;
    }
    case 'consumer-groups reset-offsets': {
      const result = await resetConsumerGroupOffsets(client, command.group, command.scope, command.spec, command.execute, options);
      if (!command.json) {
        for (const row of result.partitions) if (row.clamped) io.err(`cli: ${row.clamped}`);
        if (!result.executed) io.err('cli: dry run: nothing was committed; add --execute to commit these offsets.');
      }
      print(result, () => formatResetPlan(result.groupId, result.partitions));
      return;
    }
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
}

function partitionLines(partitions: PartitionView[]): string[] {
  return partitions.map(
    (view) =>
      `\tTopic: ${view.Topic}\tPartition: ${view.Partition}\tLeader: ${view.Leader ?? 'none'}\tReplicas: ${view.Replicas.join(',')}\t` +
      `Isr: ${view.Isr.join(',')}\tLeaderEpoch: ${view.LeaderEpoch}\tHighWatermark: ${view.HighWatermark}\t${view.State}`,
  );
}

const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));
