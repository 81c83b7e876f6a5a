/**
 * AWS list prices, us-east-1, as this project's cost figures use them. One table, each price
 * with where it was read: re-read the sources before quoting a figure outside the project.
 */

export interface Price {
  /** Dollars per unit. */
  usd: number;
  unit: string;
  source: string;
}

/** When the sources below were read. */
export const PRICES_READ_ON = '2026-12-07';

export const PRICES = {
  dynamodbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'on-demand write request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (halved from $1.25 per million from 2024-11-01)',
  },
  dynamodbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'on-demand read request unit',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamodbStorageGbMonth: { usd: 0.25, unit: 'GB-month of table storage', source: 'https://aws.amazon.com/dynamodb/pricing/' },
  lambdaRequest: { usd: 0.2 / 1e6, unit: 'Lambda request', source: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaGbSecondX86: { usd: 0.0000166667, unit: 'GB-second, x86_64', source: 'https://aws.amazon.com/lambda/pricing/' },
  cloudWatchLogsIngestedGb: { usd: 0.5, unit: 'GB of logs ingested', source: 'https://aws.amazon.com/cloudwatch/pricing/' },
  sqsFifoRequest: {
    usd: 0.5 / 1e6,
    unit: 'SQS FIFO request (each 64 KiB of payload)',
    source: 'https://aws.amazon.com/sqs/pricing/',
  },
  s3PutRequest: { usd: 0.005 / 1000, unit: 'S3 PUT, COPY, POST or LIST request', source: 'https://aws.amazon.com/s3/pricing/' },
  s3GetRequest: { usd: 0.0004 / 1000, unit: 'S3 GET and other request', source: 'https://aws.amazon.com/s3/pricing/' },
  s3StorageGbMonth: { usd: 0.023, unit: 'GB-month of S3 Standard', source: 'https://aws.amazon.com/s3/pricing/' },
  kinesisOnDemandStreamHour: { usd: 0.04, unit: 'Kinesis Data Streams on-demand stream-hour', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  kinesisOnDemandIngestGb: {
    usd: 0.08,
    unit: 'GB written to Kinesis on-demand (each record rounded up to 1 KB)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
  },
  kinesisOnDemandRetrievalGb: { usd: 0.04, unit: 'GB read from Kinesis on-demand', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  mskServerlessClusterHour: { usd: 0.75, unit: 'MSK Serverless cluster-hour', source: 'https://aws.amazon.com/msk/pricing/' },
  mskServerlessPartitionHour: { usd: 0.0015, unit: 'MSK Serverless partition-hour', source: 'https://aws.amazon.com/msk/pricing/' },
  mskServerlessInGib: { usd: 0.1, unit: 'GiB written to MSK Serverless', source: 'https://aws.amazon.com/msk/pricing/' },
  mskServerlessOutGib: { usd: 0.05, unit: 'GiB read from MSK Serverless', source: 'https://aws.amazon.com/msk/pricing/' },
} as const satisfies Record<string, Price>;

export type Prices = { [K in keyof typeof PRICES]: Price };

/** Hours in the month AWS prices by. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
