/**
 * lifion-kinesis 1.3.3 (aws-sdk v2, its own DynamoDB state table), pointed at the local twin with
 * explicit endpoints and the stack's dummy credentials. Shared by the lifion drain and latency
 * contenders.
 */
import { createRequire } from 'node:module';
import type { LocalTwinInfo } from '@shardline/local';

/** A record as lifion-kinesis hands it over (`data` is already JSON-decoded by the library). */
export interface LifionRecord {
  readonly data: unknown;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
}

/** The part of lifion-kinesis' client used here. */
export interface LifionConsumer {
  startConsumer(): Promise<void>;
  stopConsumer(): void;
  on(event: 'data', listener: (chunk: { records: LifionRecord[]; shardId: string }) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

interface AwsRequestLike {
  readonly operation: string;
  readonly params: Record<string, unknown>;
}
interface AwsSdkV2 {
  readonly events: { on(event: 'build', listener: (request: AwsRequestLike) => void): void };
}

const require = createRequire(import.meta.url);
const lifionPath = require.resolve('lifion-kinesis');
const Kinesis = require(lifionPath) as new (options: Record<string, unknown>) => LifionConsumer;
// lifion-kinesis' own copy of aws-sdk v2: its global `events` hear every request lifion makes.
const awsSdk = createRequire(lifionPath)('aws-sdk') as AwsSdkV2;

/** Calls `listener` with the operation name (e.g. `getShardIterator`) and params of every AWS request lifion builds. */
export function onLifionRequest(
  listener: (operation: string, params: Record<string, unknown>) => void,
): void {
  awsSdk.events.on('build', (request) => listener(request.operation, request.params));
}

/** A lifion-kinesis consumer reading `streamName` from TRIM_HORIZON with its default polling settings. */
export function createLifionConsumer(
  info: LocalTwinInfo,
  streamName: string,
  tableName: string,
): LifionConsumer {
  const kinesisEndpoint = info.endpoints.kinesis;
  const dynamoDBEndpoint = info.endpoints.dynamodb;
  if (!kinesisEndpoint || !dynamoDBEndpoint) throw new Error('lifion-kinesis needs Kinesis and DynamoDB');
  const aws = {
    region: info.region,
    accessKeyId: info.credentials.accessKeyId,
    secretAccessKey: info.credentials.secretAccessKey,
  };
  return new Kinesis({
    ...aws,
    endpoint: kinesisEndpoint,
    streamName,
    consumerGroup: tableName,
    createStreamIfNeeded: false,
    initialPositionInStream: 'TRIM_HORIZON',
    dynamoDb: { ...aws, endpoint: dynamoDBEndpoint, tableName },
    logger: { warn: console.warn, error: console.error },
  });
}
