/**
 * Dollars for metered usage (the local cloud's usage meter reports it in this shape), and
 * the reference points a cost is judged against: its floor and the managed streams.
 */
import { PRICES, SECONDS_PER_MONTH, HOURS_PER_MONTH, type Prices } from './prices.js';

/** The usage a bill is made from (a subset of the local cloud's UsageReport). */
export interface MeteredUsage {
  dynamodb: { readUnits: number; writeUnits: number };
  lambda: { invocations: number; gbSeconds: number; logBytes: number };
  sqs: { billedRequests: number };
  s3: { tier1Requests: number; tier2Requests: number };
}

export interface Bill {
  dynamodbWrites: number;
  dynamodbReads: number;
  lambdaRequests: number;
  lambdaDuration: number;
  logs: number;
  sqs: number;
  s3: number;
  total: number;
}

// AWS bills data by the binary gigabyte.
const GB = 1024 ** 3;
const GIB = 1024 ** 3;

export function billFor(usage: MeteredUsage, prices: Prices = PRICES): Bill {
  const lines = {
    dynamodbWrites: usage.dynamodb.writeUnits * prices.dynamodbWriteRequestUnit.usd,
    dynamodbReads: usage.dynamodb.readUnits * prices.dynamodbReadRequestUnit.usd,
    lambdaRequests: usage.lambda.invocations * prices.lambdaRequest.usd,
    lambdaDuration: usage.lambda.gbSeconds * prices.lambdaGbSecondX86.usd,
    logs: (usage.lambda.logBytes / GB) * prices.cloudWatchLogsIngestedGb.usd,
    sqs: usage.sqs.billedRequests * prices.sqsFifoRequest.usd,
    s3: usage.s3.tier1Requests * prices.s3PutRequest.usd + usage.s3.tier2Requests * prices.s3GetRequest.usd,
  };
  return { ...lines, total: Object.values(lines).reduce((sum, line) => sum + line, 0) };
}

export function scaleBill(bill: Bill, factor: number): Bill {
  return Object.fromEntries(Object.entries(bill as unknown as Record<string, number>).map(([line, usd]) => [line, usd * factor])) as unknown as Bill;
}

/**
 * The least a replicated log can cost per record on DynamoDB: each of RF copies written
 * once (one write unit per KB), read once by a strongly consistent read of its bytes.
 */
export function replicatedFloorPerRecord(recordBytes: number, replicationFactor: number, prices: Prices = PRICES): number {
  const writeUnits = replicationFactor * Math.ceil(recordBytes / 1024);
  const readUnits = recordBytes / 4096;
  return writeUnits * prices.dynamodbWriteRequestUnit.usd + readUnits * prices.dynamodbReadRequestUnit.usd;
}

/** Kinesis Data Streams on-demand, each record written and read once: per record, and its fixed part per stream-month. */
export function kinesisOnDemand(recordBytes: number, prices: Prices = PRICES): { perRecord: number; perStreamMonth: number } {
  const ingested = Math.ceil(recordBytes / 1024) * 1024;
  return {
    perRecord: (ingested / GB) * prices.kinesisOnDemandIngestGb.usd + (recordBytes / GB) * prices.kinesisOnDemandRetrievalGb.usd,
    perStreamMonth: prices.kinesisOnDemandStreamHour.usd * HOURS_PER_MONTH,
  };
}

/** MSK Serverless, each record written and read once: per record, and the cluster and partitions per month. */
export function mskServerless(recordBytes: number, partitions: number, prices: Prices = PRICES): { perRecord: number; perMonth: number } {
  return {
    perRecord: (recordBytes / GIB) * (prices.mskServerlessInGib.usd + prices.mskServerlessOutGib.usd),
    perMonth: (prices.mskServerlessClusterHour.usd + partitions * prices.mskServerlessPartitionHour.usd) * HOURS_PER_MONTH,
  };
}

/** Records a month at a sustained rate of `bytesPerSecond` of `recordBytes` records. */
export const recordsPerMonth = (bytesPerSecond: number, recordBytes: number): number => (bytesPerSecond / recordBytes) * SECONDS_PER_MONTH;
