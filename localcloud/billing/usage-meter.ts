/**
 * What AWS would bill for the traffic the local cloud served: DynamoDB read and write units
 * (the data plane's own ConsumedCapacity, asked for on every call), Lambda requests and
 * billed GB-seconds, SQS and S3 requests, CloudWatch Logs bytes ingested. Off unless a cloud
 * is started with `meterUsage`: asking for and parsing ConsumedCapacity costs the edge time.
 *
 * Free on AWS and so not billed here: DynamoDB Streams reads by Lambda event source
 * mappings, TTL deletes, and what a caller outside the functions does (benchmark setup).
 */

/** The ConsumedCapacity element DynamoDB answers with `ReturnConsumedCapacity: INDEXES`. */
export interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }>;
  LocalSecondaryIndexes?: Record<string, { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }>;
}

export interface CapacityUsage {
  requests: number;
  readUnits: number;
  writeUnits: number;
  /** Of readUnits / writeUnits: what the tables' secondary indexes took. */
  indexReadUnits: number;
  indexWriteUnits: number;
  /** Writes refused by their condition (a failed conditional write or a cancelled transaction): billed on AWS, not reported by the data plane; counted at the refused items' write units. */
  refusedWrites: number;
  refusedWriteUnits: number;
}

export interface LambdaUsage {
  invocations: number;
  /** Billed milliseconds: each invocation's duration rounded up to 1 ms, initialization included. */
  billedMs: number;
  gbSeconds: number;
  memoryMb: number;
  /** CloudWatch Logs bytes the invocations wrote (START/END/REPORT lines included). */
  logBytes: number;
}

export interface RequestUsage {
  /** Requests as AWS bills them: SQS counts each 64 KiB of a request's payload as one. */
  billedRequests: number;
  requests: number;
  bytesIn: number;
}

export interface UsageReport {
  /** Milliseconds the report covers (since start or the last reset). */
  periodMs: number;
  dynamodb: {
    total: CapacityUsage;
    byTable: Record<string, CapacityUsage>;
    byOperation: Record<string, CapacityUsage>;
    /** By who called: `lambda:<function name>`, or the caller an endpoint named. */
    byCaller: Record<string, CapacityUsage>;
  };
  lambda: { total: LambdaUsage; byFunction: Record<string, LambdaUsage> };
  sqs: { total: RequestUsage; byAction: Record<string, RequestUsage> };
  s3: {
    tier1: RequestUsage;
    tier2: RequestUsage;
    /** By who called, as for DynamoDB: a benchmark charges a workload only its own functions' requests. */
    byCaller: Record<string, { tier1: RequestUsage; tier2: RequestUsage }>;
  };
}

/** Callers whose DynamoDB traffic AWS does not bill: Lambda's stream pollers and TTL expiry. */
export const UNBILLED_CALLERS: ReadonlySet<string> = new Set(['event-source-mappings', 'ttl-reaper']);

const emptyS3 = () => ({
  tier1: emptyRequests(),
  tier2: emptyRequests(),
  byCaller: new Map<string, { tier1: RequestUsage; tier2: RequestUsage }>(),
});

const SQS_BILLING_CHUNK_BYTES = 64 * 1024;

const emptyCapacity = (): CapacityUsage => ({
  requests: 0,
  readUnits: 0,
  writeUnits: 0,
  indexReadUnits: 0,
  indexWriteUnits: 0,
  refusedWrites: 0,
  refusedWriteUnits: 0,
});
const emptyLambda = (memoryMb: number): LambdaUsage => ({ invocations: 0, billedMs: 0, gbSeconds: 0, memoryMb, logBytes: 0 });
const emptyRequests = (): RequestUsage => ({ billedRequests: 0, requests: 0, bytesIn: 0 });

/** One call's units, split by what is read and what is written. */
export interface CapacityCharge {
  table: string;
  readUnits: number;
  writeUnits: number;
  indexReadUnits: number;
  indexWriteUnits: number;
}

/** Read operations report CapacityUnits as read units, the rest as write units. */
const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems', 'ExecuteStatement', 'BatchExecuteStatement']);

/**
 * The units one answer's ConsumedCapacity reports, per table. PartiQL statements may read
 * or write: DynamoDB Local reports them under CapacityUnits only, so the statement decides
 * (`statementWrites`).
 */
export function chargesOf(operation: string, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined, statementWrites = false): CapacityCharge[] {
  if (consumed === undefined) return [];
  const list = Array.isArray(consumed) ? consumed : [consumed];
  const reads = READ_OPERATIONS.has(operation) && !statementWrites;
  return list.map((entry) => {
    const indexUnits = sumIndexes(entry.GlobalSecondaryIndexes) + sumIndexes(entry.LocalSecondaryIndexes);
    const total = entry.CapacityUnits ?? (entry.ReadCapacityUnits ?? 0) + (entry.WriteCapacityUnits ?? 0);
    return {
      table: entry.TableName ?? 'unknown',
      readUnits: reads ? total : 0,
      writeUnits: reads ? 0 : total,
      indexReadUnits: reads ? indexUnits : 0,
      indexWriteUnits: reads ? 0 : indexUnits,
    };
  });
}

function sumIndexes(indexes: ConsumedCapacity['GlobalSecondaryIndexes']): number {
  let sum = 0;
  for (const index of Object.values(indexes ?? {})) sum += index.CapacityUnits ?? (index.ReadCapacityUnits ?? 0) + (index.WriteCapacityUnits ?? 0);
  return sum;
}

export class UsageMeter {
  private startedAt = Date.now();
  private dynamodb = { total: emptyCapacity(), byTable: new Map<string, CapacityUsage>(), byOperation: new Map<string, CapacityUsage>(), byCaller: new Map<string, CapacityUsage>() };
  private lambda = new Map<string, LambdaUsage>();
  private sqs = new Map<string, RequestUsage>();
  private s3 = emptyS3();

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** One DynamoDB call: its charges (from ConsumedCapacity, plus what the edge added for it). */
  recordDynamoDb(caller: string, operation: string, charges: CapacityCharge[], refused?: { items: number; writeUnits: number }): void {
    if (UNBILLED_CALLERS.has(caller)) return;
    const targets = [this.dynamodb.total, at(this.dynamodb.byOperation, operation, emptyCapacity), at(this.dynamodb.byCaller, caller, emptyCapacity)];
    for (const usage of targets) usage.requests += 1;
    for (const charge of charges) {
      for (const usage of [...targets, at(this.dynamodb.byTable, charge.table, emptyCapacity)]) {
        usage.readUnits += charge.readUnits;
        usage.writeUnits += charge.writeUnits;
        usage.indexReadUnits += charge.indexReadUnits;
        usage.indexWriteUnits += charge.indexWriteUnits;
      }
    }
    if (refused) {
      for (const usage of targets) {
        usage.refusedWrites += refused.items;
        usage.refusedWriteUnits += refused.writeUnits;
        usage.writeUnits += refused.writeUnits;
      }
    }
  }

  /** One invocation that ran (a throttled one is not billed). */
  recordLambda(functionName: string, memoryMb: number, billedMs: number, logBytes: number): void {
    const usage = at(this.lambda, functionName, () => emptyLambda(memoryMb));
    usage.invocations += 1;
    usage.billedMs += billedMs;
    usage.gbSeconds += (memoryMb / 1024) * (billedMs / 1000);
    usage.logBytes += logBytes;
  }

  recordSqs(action: string, requestBytes: number): void {
    const usage = at(this.sqs, action, emptyRequests);
    usage.requests += 1;
    usage.billedRequests += Math.max(1, Math.ceil(requestBytes / SQS_BILLING_CHUNK_BYTES));
    usage.bytesIn += requestBytes;
  }

  /** S3 bills PUT, COPY, POST and LIST at the first tier, GET and the rest at the second. */
  recordS3(caller: string, tier: 1 | 2, requestBytes: number): void {
    const byCaller = at(this.s3.byCaller, caller, () => ({ tier1: emptyRequests(), tier2: emptyRequests() }));
    for (const usage of tier === 1 ? [this.s3.tier1, byCaller.tier1] : [this.s3.tier2, byCaller.tier2]) {
      usage.requests += 1;
      usage.billedRequests += 1;
      usage.bytesIn += requestBytes;
    }
  }

  report(): UsageReport {
    const lambdaTotal = emptyLambda(0);
    for (const usage of this.lambda.values()) {
      lambdaTotal.invocations += usage.invocations;
      lambdaTotal.billedMs += usage.billedMs;
      lambdaTotal.gbSeconds += usage.gbSeconds;
      lambdaTotal.logBytes += usage.logBytes;
    }
    const sqsTotal = emptyRequests();
    for (const usage of this.sqs.values()) {
      sqsTotal.requests += usage.requests;
      sqsTotal.billedRequests += usage.billedRequests;
      sqsTotal.bytesIn += usage.bytesIn;
    }
    return structuredClone({
      periodMs: this.now() - this.startedAt,
      dynamodb: {
        total: this.dynamodb.total,
        byTable: Object.fromEntries(this.dynamodb.byTable),
        byOperation: Object.fromEntries(this.dynamodb.byOperation),
        byCaller: Object.fromEntries(this.dynamodb.byCaller),
      },
      lambda: { total: lambdaTotal, byFunction: Object.fromEntries(this.lambda) },
      sqs: { total: sqsTotal, byAction: Object.fromEntries(this.sqs) },
      s3: { tier1: this.s3.tier1, tier2: this.s3.tier2, byCaller: Object.fromEntries(this.s3.byCaller) },
    });
  }

  /** Starts a new period: what is recorded from now on is all the next report holds. */
  reset(): void {
    this.startedAt = this.now();
    this.dynamodb = { total: emptyCapacity(), byTable: new Map(), byOperation: new Map(), byCaller: new Map() };
    this.lambda = new Map();
    this.sqs = new Map();
    this.s3 = emptyS3();
  }
}

function at<V>(map: Map<string, V>, key: string, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
