/**
 * The data plane of the embedded cloud: DynamoDB Local (DynamoDB, DynamoDB Streams) and
 * moto (SQS, S3, the rest), started together, behind one edge that routes each request by
 * its service. The local cloud adds its Lambda API to that edge; tests of single parts use
 * the data plane alone.
 */
import { startDynamoDbLocal, type DynamoDbLocalOptions } from './dynamodb-local.js';
import { Edge, EdgePortInUseError } from '../edge/edge.js';
import { isPortTaken } from './managed-process.js';
import { startMoto, type MotoOptions } from './moto.js';

export interface DataPlaneOptions {
  /** The edge's port on 127.0.0.1; 0 picks a free one. Default 0. */
  port?: number;
  moto?: MotoOptions;
  dynamodb?: DynamoDbLocalOptions;
}

export interface DataPlane {
  /** The edge: DynamoDB calls reach DynamoDB Local, the rest moto. */
  readonly edge: Edge;
  readonly endpoint: string;
  readonly motoEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** The edge, then DynamoDB Local and moto. Idempotent. */
  stop(): Promise<void>;
}

export async function startDataPlane(options: DataPlaneOptions = {}): Promise<DataPlane> {
  // A taken edge port is the likeliest failure (another `npm start`): say so before starting anything.
  if (options.port && (await isPortTaken(options.port))) throw new EdgePortInUseError(options.port);
  // Both at once: the JVM's start is the longer one. Whichever started is stopped on failure.
  const [moto, dynamodb] = await Promise.allSettled([startMoto(options.moto), startDynamoDbLocal(options.dynamodb)]);
  const servers = [moto, dynamodb].flatMap((server) => (server.status === 'fulfilled' ? [server.value] : []));
  const stopServers = () => Promise.all(servers.map((server) => server.stop())).then(() => undefined);
  if (moto.status === 'rejected' || dynamodb.status === 'rejected') {
    await stopServers().catch(() => undefined);
    throw moto.status === 'rejected' ? moto.reason : (dynamodb as PromiseRejectedResult).reason;
  }
  let edge: Edge;
  try {
    edge = await Edge.start({ port: options.port ?? 0, upstream: moto.value.endpoint, dynamodb: dynamodb.value.endpoint });
  } catch (error) {
    await stopServers().catch(() => undefined);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    edge,
    endpoint: edge.url,
    motoEndpoint: moto.value.endpoint,
    dynamodbEndpoint: dynamodb.value.endpoint,
    stop: () => (stopping ??= edge.close().finally(stopServers)),
  };
}
