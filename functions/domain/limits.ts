/**
 * Limits shared by validation and the write paths, each with the reason it exists.
 */

/** A DynamoDB transaction holds 100 items; an append spends one on the LEO update and one on the epoch check. */
export const MAX_RECORDS_PER_WRITE = 98;

/**
 * Key + value bytes of one record. 98 records of this size stay under the 4 MB
 * a DynamoDB transaction may carry, so a full chunk is always writable.
 */
export const MAX_RECORD_BYTES = 32 * 1024;

export const MAX_PARTITIONS = 1000;
export const MAX_RECORDS_PER_PRODUCE = 500;
/** Batches in one ProduceBatches call: one per partition, as many as a fetch may name. */
export const MAX_BATCHES_PER_PRODUCE = 1000;
export const MAX_RECORDS_PER_CONSUME = 1000;
export const DEFAULT_RECORDS_PER_CONSUME = 100;

/**
 * Kafka's max.partition.fetch.bytes (default 1 MiB): a consume answers with records
 * up to this many bytes of key and value as JSON, but always with at least one so the
 * consumer makes progress. The cap keeps an answer under the 6 MB a Lambda response
 * may carry, whatever the records hold.
 */
export const DEFAULT_BYTES_PER_CONSUME = 1024 * 1024;
export const MAX_BYTES_PER_CONSUME = 5 * 1024 * 1024;

/**
 * A fetch of many partitions in one call (Kafka's Fetch request): at most this many
 * partitions, and at most `maxBytes` (Kafka's fetch.max.bytes, here at most and by default
 * MAX_BYTES_PER_FETCH) of records in all, each counted as the JSON the answer carries, so
 * the answer stays under Lambda's 6 MB however many partitions and records it holds.
 */
export const MAX_PARTITIONS_PER_FETCH = 1000;
export const MAX_BYTES_PER_FETCH = 5 * 1024 * 1024;
/** Partitions whose records a fetch reads from the log at once. */
export const FETCH_READS_IN_FLIGHT = 8;

/**
 * The longest a fetch may wait for records (Kafka's fetch.max.wait.ms; the function's
 * timeout is 10 s, and the reads after the wait need time too).
 */
export const MAX_FETCH_WAIT_MS = 5_000;
/**
 * How often a waiting fetch looks again (one eventually consistent read of its partitions):
 * the latency it adds to a record, against a read per check on top of the Lambda time.
 */
export const FETCH_WAIT_CHECK_MS = 200;

/**
 * How often a conditional write is re-decided after losing a race. Each loss
 * means someone else changed the item, so a handful is plenty; past that the
 * trigger (stream record, client) retries with fresh state.
 */
export const MAX_CONDITIONAL_ATTEMPTS = 5;

/**
 * Producers to one partition race for its log end (the append is conditional on
 * it). Losing is normal under load and costs one round trip, so an append tries
 * this often, backing off a little more each time, before it gives up with a
 * retriable error.
 */
export const MAX_APPEND_ATTEMPTS = 20;
export const APPEND_RETRY_BACKOFF_MS = 5;
/**
 * A batch found at a replica's log end, uncommitted, this long after it was written was
 * left by a writer that died (or stalled) between the write and its commit: the next
 * writer abandons it (domain/generations.ts). Younger, it is a concurrent writer's, about
 * to commit: the next writer loses the race and retries. Only liveness depends on it: an
 * abandoned writer's commit is refused whenever it comes.
 */
export const IN_DOUBT_BATCH_AGE_MS = 1_000;

/**
 * How soon a copier that found another writer's copy in flight at a follower's log end
 * (replica-sync.ts) first looks at the follower's state again while it waits for that
 * copy's commit (then twice as long each time): each look is one small read, where racing
 * the copy costs a refused put billed at the whole batch's size.
 */
export const COPY_IN_FLIGHT_POLL_MS = 25;

/**
 * A sweep also waits out a peer lease that lapses this soon, then deletes it: the peer
 * has already missed heartbeats (a live one's deadline is a whole session away), and
 * the wait takes up to a heartbeat interval off its detection. A renewal meanwhile
 * moves the deadline and the conditional delete leaves the lease alone.
 */
export const SWEEP_LOOKAHEAD_MS = 500;

/**
 * Runs of sequences kept per idempotent producer and replica, of any producer epoch. A
 * truncation only ever removes uncommitted records, and a leader never lets a new run
 * push out a run while the oldest run it keeps is uncommitted (produce refuses it with
 * ProducerStateFullError until the HW moves), so a truncation always leaves at least
 * one of the producer's runs below the cut when its log holds any: the epoch and last
 * sequence of the state are then exactly those of the log up to the cut.
 */
export const MAX_RUNS_PER_PRODUCER = 8;

/**
 * Producers remembered per replica: the state lives in the replica's one DynamoDB item
 * of at most 400 KB, and a producer with MAX_RUNS_PER_PRODUCER runs takes at most about
 * 800 bytes of it. Producers leave it only by time (producer.id.expiration.ms after
 * their last record, like Kafka's); a new producer that would not fit is refused with
 * the retriable ProducerStateFullError, and no known producer is ever dropped for room.
 */
export const MAX_PRODUCERS_PER_REPLICA = 400;

/** Kafka's default producer.id.expiration.ms: a producer silent for a day is forgotten. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

/**
 * Kafka's sequence numbers and producer epochs are a signed int32 and int16. A sequence
 * wraps from MAX_SEQUENCE to 0 (DefaultRecordBatch.incrementSequence): a producer may
 * write more than 2^31 records to a partition.
 */
export const MAX_SEQUENCE = 2 ** 31 - 1;
export const MAX_PRODUCER_EPOCH = 2 ** 15 - 1;

/**
 * How long after its start (TopicConfig.createdAt) a topic creation may still be at work
 * in its CreateTopic invocation: the function's timeout (function-table.ts, 30 s). A
 * creation still unfinished after that was cut short, and the reconciler finishes it.
 */
export const TOPIC_CREATION_GRACE_MS = 30_000;

/**
 * How long a controlled shutdown's mark keeps its broker ineligible: the ControlledShutdown
 * function's timeout (functions/function-table.ts), so a mark never outlives the shutdown
 * that set it. A shutdown whose Lambda stopped after the mark, while the broker runs on,
 * would otherwise leave it unelectable for good.
 */
export const CONTROLLED_SHUTDOWN_MARK_MS = 60_000;

/** Kafka's session.timeout.ms default for a group member. */
export const DEFAULT_GROUP_SESSION_TIMEOUT_MS = 45_000;
/** Kafka's max.poll.interval.ms default, a consumer's rebalance timeout. */
export const DEFAULT_GROUP_REBALANCE_TIMEOUT_MS = 300_000;
/** An int32 of milliseconds, as Kafka's request fields. */
export const MAX_GROUP_TIMEOUT_MS = 2 ** 31 - 1;
/** Protocols (assignment strategies) one member may offer. */
export const MAX_GROUP_PROTOCOLS = 16;
/**
 * A subscription's or an assignment's bytes: the group item holds every member's (DynamoDB's
 * 400 KB item), so a group of N members with large subscriptions is bounded by N x this.
 */
export const MAX_GROUP_METADATA_BYTES = 16 * 1024;
/** Kafka's offset.metadata.max.bytes. */
export const MAX_OFFSET_METADATA_BYTES = 4096;
/** A commit is one transaction: its offsets plus the checks of the group item and the coordinator partition (DynamoDB's 100). */
export const MAX_OFFSETS_PER_COMMIT = 98;
/** Groups one DescribeGroups names: each costs a strong read of its group item and of its coordinator partition. */
export const MAX_GROUPS_PER_DESCRIBE = 100;
/** How often a JoinGroup or SyncGroup call waiting for the rebalance reads the group item again. */
export const GROUP_WAIT_POLL_MS = 250;
/**
 * How long a member whose JoinGroup or SyncGroup answered `pending` waits, on its own side,
 * before it calls again: past the first groupJoinWaitMs of a rebalance phase a call waits
 * for nothing, so a long rebalance costs a member a read per this, not Lambda time.
 */
export const GROUP_REJOIN_BACKOFF_MS = 1_000;
