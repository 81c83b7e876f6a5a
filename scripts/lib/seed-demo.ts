import { SQSClient } from '@aws-sdk/client-sqs';
import { BrokerSimulator, registerCredentials } from '../../client/broker-simulator.js';
import { formatPartitions, seconds } from './format.js';
import { LeadershipClient } from '../../client/lambda-client.js';
import { drainLeadershipEvents } from '../../client/leadership-events.js';
import { pollUntil } from '../../client/poll.js';
import type { LeadershipStackOutputs } from '../../client/stack-outputs.js';

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
export async function playSeedScenario(options: SeedDemoOptions): Promise<{ simulator: BrokerSimulator; stop(): Promise<void> }> {
  const { log, sessionTimeoutMs } = options;
  const client = new LeadershipClient(options.outputs, { endpoint: options.endpoint });
  const sqs = new SQSClient({ endpoint: options.endpoint });
  let sweptA: { by: string; at: number } | undefined;
  const simulator = new BrokerSimulator(client, {
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    credentials: registerCredentials(client),
    onHeartbeat: (brokerId, response) => {
      if (!sweptA && response.sweptBrokers.includes('A')) sweptA = { by: brokerId, at: Date.now() };
    },
    onError: (brokerId, error) => log(`heartbeat of ${brokerId} failed: ${error.message}`),
  });

  log(`Brokers A, B, C, D start heartbeating every ${options.heartbeatIntervalMs} ms (session timeout ${sessionTimeoutMs} ms).`);
  await simulator.start(['A', 'B', 'C', 'D']);

  await client.createTopic({ topic, partitions: 4, replicationFactor: 2 });
  log(`Created topic "${topic}": 4 partitions, replication factor 2, assigned round-robin as Kafka does:`);
  console.log(formatPartitions((await client.describe(topic)).topics[0].partitions));

  for (const partition of [1, 2, 3, 4]) {
    const records = Array.from({ length: recordsPerPartition }, (_, index) => ({ key: `customer-${index % 3}`, value: `order ${partition}-${index}` }));
    const ack = await client.produce({ topic, partition, records });
    log(`Produced ${records.length} records to partition ${partition} via leader ${ack.leader}: offsets ${ack.baseOffset}-${ack.lastOffset} acknowledged by the whole ISR (high watermark ${ack.highWatermark}).`);
  }

  const { leaseDeadlineMs } = await simulator.kill('A');
  const lastHeartbeatAt = leaseDeadlineMs - sessionTimeoutMs;
  const sinceLastHeartbeat = (at: number) => `${seconds(at - lastHeartbeatAt)} after A's last heartbeat`;
  log(`Broker A dies. Its last heartbeat was accepted ${Date.now() - lastHeartbeatAt} ms ago; its lease lapses ${seconds(sessionTimeoutMs)} after it.`);

  // The consumer looks the leader up before every read, as a Kafka client refreshes metadata.
  const read = await pollUntil(
    async () => {
      const attempt = await client.consume({ topic, partition: 1, offset: 0, maxRecords: 100 });
      return attempt.leader === 'B' ? attempt : undefined;
    },
    { timeoutMs: sessionTimeoutMs * 4, intervalMs: 50, description: 'partition 1 to be served by B' },
  );
  const firstReadAt = Date.now();
  if (sweptA) {
    log(`Detected: broker ${sweptA.by}'s heartbeat found A's lease lapsed and deleted it ${sinceLastHeartbeat(sweptA.at)} (REMOVE on the heartbeat stream).`);
  } else {
    log(`Detected: A's lapsed lease was deleted by the TTL reaper or the sweep schedule (REMOVE on the heartbeat stream).`);
  }
  const events = (await drainLeadershipEvents(sqs, options.outputs.LeadershipEventsQueueUrl)).filter((candidate) => candidate.reason !== 'CREATED');
  const promotion = events.find((candidate) => candidate.partition === 1 && candidate.newLeader === 'B');
  if (promotion) {
    log(`Promoted: partition 1 -> ${promotion.newLeader}, epoch ${promotion.leaderEpoch}, ISR [${promotion.isr.join(',')}] (${promotion.reason}), ` +
        `one conditional write ${sinceLastHeartbeat(promotion.at)} (excess over the session timeout ${seconds(promotion.at - leaseDeadlineMs)}).`);
  }
  log(`First read served by the new leader: ${read.records.length} records from ${read.leader} (epoch ${read.leaderEpoch}), offsets 0-${read.nextOffset - 1}, ` +
      `none missing, high watermark ${read.highWatermark}, ${sinceLastHeartbeat(firstReadAt)}.`);
  console.log(formatPartitions((await client.describe(topic)).topics[0].partitions));
  log(`Leadership events consumed from the FIFO queue (message group = topic-partition):`);
  for (const change of events) {
    console.log(`  ${change.messageGroupId}: ${change.reason} leader ${change.previousLeader ?? 'none'} -> ${change.newLeader ?? 'none'}, epoch ${change.leaderEpoch}, ISR [${change.isr.join(',')}]${change.unclean ? ' (UNCLEAN)' : ''}`);
  }

  return {
    simulator,
    async stop() {
      await simulator.stop();
      client.close();
      sqs.destroy();
    },
  };
}
