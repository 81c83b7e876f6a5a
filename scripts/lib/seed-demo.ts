import { SQSClient } from '@aws-sdk/client-sqs';
import { BrokerSimulator } from './broker-simulator.js';
import { formatPartitions, seconds } from './format.js';
import { LeadershipClient } from './lambda-client.js';
import { drainLeadershipEvents } from './leadership-events.js';
import { pollUntil } from './poll.js';
import type { LeadershipStackOutputs } from './stack-outputs.js';

export interface SeedDemoOptions {
  endpoint: string;
  outputs: LeadershipStackOutputs;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  log: (message: string) => void;
}

const topic = 'orders';
const recordsPerPartition = 10;

/**
 * The product's reference scenario, narrated: A-D heartbeat, topic orders 4x2, records
 * acknowledged on every partition, A dies, B takes partition 1, a consumer reads from B.
 * Leaves B, C and D heartbeating so the cluster stays up for the user to explore.
 */
export async function playSeedScenario(options: SeedDemoOptions): Promise<{ stop(): Promise<void> }> {
  const { log, sessionTimeoutMs } = options;
  const client = new LeadershipClient(options.outputs, { endpoint: options.endpoint });
  const sqs = new SQSClient({ endpoint: options.endpoint });
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    onError: (brokerId, error) => log(`heartbeat of ${brokerId} failed: ${error.message}`),
  });

  log(`Brokers A, B, C, D start heartbeating every ${options.heartbeatIntervalMs} ms (session timeout ${sessionTimeoutMs} ms).`);
  await simulator.start(['A', 'B', 'C', 'D']);

  await client.createTopic({ topic, partitions: 4, replicationFactor: 2 });
  log(`Created topic "${topic}": 4 partitions, replication factor 2, assigned round-robin as Kafka does:`);
  console.log(formatPartitions((await client.describe(topic)).topics[0]!.partitions));

  for (const partition of [1, 2, 3, 4]) {
    const records = Array.from({ length: recordsPerPartition }, (_, index) => ({ key: `customer-${index % 3}`, value: `order ${partition}-${index}` }));
    const ack = await client.produce({ topic, partition, records });
    log(`Produced ${records.length} records to partition ${partition} via leader ${ack.leader}: offsets ${ack.baseOffset}-${ack.lastOffset} acknowledged by the whole ISR (high watermark ${ack.highWatermark}).`);
  }

  const { leaseDeadlineMs } = await simulator.kill('A');
  const lastHeartbeatAt = leaseDeadlineMs - sessionTimeoutMs;
  log(`Broker A dies (its last heartbeat was acknowledged ${Date.now() - lastHeartbeatAt} ms ago). Waiting for its lease to lapse ...`);
  await pollUntil(async () => (await client.describe(topic)).topics[0]!.partitions.find((view) => view.Partition === 1)?.Leader === 'B', {
    timeoutMs: sessionTimeoutMs * 4,
    intervalMs: 50,
    description: 'partition 1 to be led by B',
  });
  const promotedSeen = Date.now();
  const events = (await drainLeadershipEvents(sqs, options.outputs.LeadershipEventsQueueUrl)).filter((candidate) => candidate.reason !== 'CREATED');
  const event = events.find((candidate) => candidate.partition === 1 && candidate.newLeader === 'B');
  if (event) {
    log(`Detected and promoted: partition 1 -> ${event.newLeader} (epoch ${event.leaderEpoch}, ISR [${event.isr.join(',')}], ${event.reason}) ` +
        `${seconds(event.at - lastHeartbeatAt)} after A's last heartbeat (session timeout ${seconds(sessionTimeoutMs)}, excess ${seconds(event.at - lastHeartbeatAt - sessionTimeoutMs)}).`);
  }
  const read = await client.consume({ topic, partition: 1, offset: 0, maxRecords: 100 });
  const firstReadAt = Date.now();
  log(`A consumer of partition 1 looked the leader up and read ${read.records.length} records from ${read.leader} (epoch ${read.leaderEpoch}), ` +
      `offsets 0-${read.nextOffset - 1}, none missing: first read served ${seconds(firstReadAt - lastHeartbeatAt)} after A's last heartbeat ` +
      `(${promotedSeen - lastHeartbeatAt} ms until describe showed B).`);
  console.log(formatPartitions((await client.describe(topic)).topics[0]!.partitions));
  log(`Leadership events consumed from the FIFO queue (message group = topic-partition):`);
  for (const change of events) {
    console.log(`  ${change.messageGroupId}: ${change.reason} leader ${change.previousLeader ?? 'none'} -> ${change.newLeader ?? 'none'}, epoch ${change.leaderEpoch}, ISR [${change.isr.join(',')}]${change.unclean ? ' (UNCLEAN)' : ''}`);
  }

  return {
    async stop() {
      await simulator.stop();
      client.close();
      sqs.destroy();
    },
  };
}
