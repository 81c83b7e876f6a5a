import { describe, expect, it } from 'vitest';
import { itemSize, memberWriteUnits, numberSize, planBilling, valueSize, wasRefusedByCondition, writeUnitsFor } from '../../../billing/dynamodb-billing.js';
import { meterMotoRequest } from '../../../billing/metered-requests.js';
import { chargesOf, UsageMeter } from '../../../billing/usage-meter.js';

describe("DynamoDB's item size rules", () => {
  it('counts a string by its UTF-8 bytes and an attribute by its name too', () => {
    expect(itemSize({ id: { S: 'abc' } })).toBe(2 + 3);
    expect(itemSize({ name: { S: 'é' } })).toBe(4 + 2);
  });

  it('counts a number at one byte per two significant digits plus one, zeros at either end left out', () => {
    expect(numberSize('7')).toBe(2);
    expect(numberSize('1234')).toBe(3);
    expect(numberSize('12345')).toBe(4);
    expect(numberSize('1000')).toBe(2);
    expect(numberSize('-0.00120')).toBe(2);
  });

  it('counts booleans and nulls as one byte, lists and maps as 3 plus one per element', () => {
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
    expect(valueSize({ L: [{ S: 'ab' }, { BOOL: false }] })).toBe(3 + (1 + 2) + (1 + 1));
    expect(valueSize({ M: { k: { S: 'v' } } })).toBe(3 + 1 + 1 + 1);
    expect(valueSize({ B: Buffer.from('four').toString('base64') })).toBe(4);
  });

  it('bills a write one unit per KB started, at least one', () => {
    expect(writeUnitsFor(0)).toBe(1);
    expect(writeUnitsFor(1024)).toBe(1);
    expect(writeUnitsFor(1025)).toBe(2);
  });

  it('bills a transaction member twice, on the larger of its item before and after', () => {
    expect(memberWriteUnits(100, 0)).toBe(2);
    expect(memberWriteUnits(500, 1500)).toBe(4);
    expect(memberWriteUnits(2500, 100)).toBe(6);
  });

  it('refuses an attribute type DynamoDB does not have', () => {
    expect(() => valueSize({ X: 1 })).toThrow(/unknown DynamoDB attribute type "X"/);
  });
});

describe('planBilling', () => {
  const body = (request: unknown) => Buffer.from(JSON.stringify(request));

  it("asks for ConsumedCapacity by index, whatever the caller asked", () => {
    const plan = planBilling('PutItem', body({ TableName: 't', Item: { pk: { S: 'a' } }, ReturnConsumedCapacity: 'NONE' }));
    expect(JSON.parse(plan?.body.toString() ?? '{}')).toMatchObject({ ReturnConsumedCapacity: 'INDEXES' });
  });

  it("notes every member of a transaction, to be billed item by item", () => {
    const plan = planBilling(
      'TransactWriteItems',
      body({
        TransactItems: [
          { ConditionCheck: { TableName: 'meta', Key: { pk: { S: 'p' } }, ConditionExpression: 'leaderEpoch = :e' } },
          { Put: { TableName: 'log', Item: { pk: { S: 'r' } } } },
          { Update: { TableName: 'meta', Key: { pk: { S: 's' } }, UpdateExpression: 'SET x = :x' } },
        ],
      }),
    );
    expect(plan?.transaction).toEqual([
      { kind: 'ConditionCheck', table: 'meta', key: { pk: { S: 'p' } } },
      { kind: 'Put', table: 'log', put: { pk: { S: 'r' } } },
      { kind: 'Update', table: 'meta', key: { pk: { S: 's' } } },
    ]);
    expect(plan?.ifRefused).toEqual({ puts: [], keyed: [] });
  });

  it('leaves alone what has no capacity to report, and a body that is not JSON', () => {
    expect(planBilling('DescribeTable', body({ TableName: 't' }))).toBeUndefined();
    expect(planBilling('PutItem', Buffer.from('{not json'))).toBeUndefined();
  });

  it('tells a PartiQL write from a read', () => {
    expect(planBilling('ExecuteStatement', body({ Statement: 'UPDATE "t" SET x = 1 WHERE pk = ?' }))?.statementWrites).toBe(true);
    expect(planBilling('ExecuteStatement', body({ Statement: 'SELECT * FROM "t"' }))?.statementWrites).toBe(false);
    expect(planBilling('BatchExecuteStatement', body({ Statements: [{ Statement: 'SELECT * FROM "t"' }, { Statement: 'INSERT INTO "t" VALUE {}' }] }))?.statementWrites).toBe(true);
  });

  it('recognises a refusal by condition and nothing else', () => {
    expect(wasRefusedByCondition(400, Buffer.from('{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}'))).toBe(true);
    expect(wasRefusedByCondition(400, Buffer.from('{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException"}'))).toBe(true);
    expect(wasRefusedByCondition(400, Buffer.from('{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException"}'))).toBe(false);
    expect(wasRefusedByCondition(500, Buffer.from('ConditionalCheckFailedException'))).toBe(false);
  });
});

describe('UsageMeter', () => {
  it("splits an answer's units into reads and writes, table and indexes", () => {
    expect(chargesOf('Query', { TableName: 't', CapacityUnits: 1.5, GlobalSecondaryIndexes: { g: { CapacityUnits: 1.5 } } })).toEqual([
      { table: 't', readUnits: 1.5, writeUnits: 0, indexReadUnits: 1.5, indexWriteUnits: 0 },
    ]);
    expect(chargesOf('TransactWriteItems', [{ TableName: 'a', CapacityUnits: 4 }, { TableName: 'b', CapacityUnits: 2 }])).toEqual([
      { table: 'a', readUnits: 0, writeUnits: 4, indexReadUnits: 0, indexWriteUnits: 0 },
      { table: 'b', readUnits: 0, writeUnits: 2, indexReadUnits: 0, indexWriteUnits: 0 },
    ]);
    expect(chargesOf('ExecuteStatement', { TableName: 't', CapacityUnits: 1 }, true)[0]).toMatchObject({ writeUnits: 1, readUnits: 0 });
  });

  it('totals by table, operation and caller, and bills nothing for stream pollers and TTL', () => {
    const meter = new UsageMeter();
    meter.recordDynamoDb('lambda:Produce', 'TransactWriteItems', [{ table: 'log', readUnits: 0, writeUnits: 6, indexReadUnits: 0, indexWriteUnits: 0 }]);
    meter.recordDynamoDb('lambda:Produce', 'PutItem', [], { items: 1, writeUnits: 2 });
    meter.recordDynamoDb('event-source-mappings', 'Scan', [{ table: 'log', readUnits: 9, writeUnits: 0, indexReadUnits: 0, indexWriteUnits: 0 }]);
    meter.recordDynamoDb('ttl-reaper', 'DeleteItem', [{ table: 'brokers', readUnits: 0, writeUnits: 1, indexReadUnits: 0, indexWriteUnits: 0 }]);
    const { dynamodb } = meter.report();
    expect(dynamodb.total).toMatchObject({ requests: 2, writeUnits: 8, readUnits: 0, refusedWrites: 1, refusedWriteUnits: 2 });
    expect(dynamodb.byTable.log?.writeUnits).toBe(6);
    expect(dynamodb.byCaller['lambda:Produce']?.requests).toBe(2);
    expect(dynamodb.byOperation.PutItem?.refusedWrites).toBe(1);
    expect(dynamodb.byCaller['ttl-reaper']).toBeUndefined();
  });

  it('bills Lambda in GB-seconds at each function\'s memory, and a reset starts a new period', () => {
    let now = 1_000;
    const meter = new UsageMeter(() => now);
    meter.recordLambda('f', 256, 100, 50);
    meter.recordLambda('f', 256, 300, 70);
    now = 3_000;
    expect(meter.report()).toMatchObject({
      periodMs: 2_000,
      lambda: { total: { invocations: 2, billedMs: 400, gbSeconds: 0.1, logBytes: 120 } },
    });
    meter.reset();
    now = 3_500;
    expect(meter.report()).toMatchObject({ periodMs: 500, lambda: { total: { invocations: 0 } } });
  });

  it('bills SQS per 64 KiB of payload and S3 by request tier', () => {
    const meter = new UsageMeter();
    meter.recordSqs('SendMessageBatch', 10);
    meter.recordSqs('SendMessageBatch', 64 * 1024 + 1);
    meter.recordS3('lambda:Produce', 1, 100);
    meter.recordS3('lambda:Consume', 2, 0);
    meter.recordS3('lambda:Consume', 2, 0);
    const report = meter.report();
    expect(report.sqs.total).toEqual({ requests: 2, billedRequests: 3, bytesIn: 64 * 1024 + 11 });
    expect(report.s3.tier1.requests).toBe(1);
    expect(report.s3.tier2.requests).toBe(2);
    // Each caller's own requests, so that a workload is charged only what its functions asked.
    expect(report.s3.byCaller['lambda:Produce'].tier1.requests).toBe(1);
    expect(report.s3.byCaller['lambda:Produce'].tier2.requests).toBe(0);
    expect(report.s3.byCaller['lambda:Consume'].tier2.requests).toBe(2);
  });
});

describe('S3 requests on their way to moto', () => {
  const signed = { authorization: 'AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' };
  const request = (meter: UsageMeter, method: string, path: string, bytes = 0) =>
    meterMotoRequest(meter, 'clients', method, new URL(`http://127.0.0.1:4566${path}`), { ...signed, 'content-length': String(bytes) });

  it('bill PUT and LIST (a GET of the bucket) at the first tier, GET and HEAD of an object at the second, DELETE not at all', () => {
    const meter = new UsageMeter();
    request(meter, 'PUT', '/objects-bucket/objects/202612071723/1-ab', 2048);
    request(meter, 'GET', '/objects-bucket?list-type=2&prefix=objects%2F202612071723%2F');
    request(meter, 'GET', '/objects-bucket/objects/202612071723/1-ab');
    request(meter, 'HEAD', '/objects-bucket/objects/202612071723/1-ab');
    request(meter, 'DELETE', '/objects-bucket/objects/202612071723/1-ab');
    const { s3 } = meter.report();
    expect(s3.tier1).toEqual({ requests: 2, billedRequests: 2, bytesIn: 2048 });
    expect(s3.tier2).toEqual({ requests: 2, billedRequests: 2, bytesIn: 0 });
  });
});
