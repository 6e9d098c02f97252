import { http1RequestHandler } from '@shardline/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Dummy credentials: the emulators accept any, and real ones must never be sent to them. */
export const LOCAL_CREDENTIALS = Object.freeze({
  accessKeyId: 'shardline-local',
  secretAccessKey: 'shardline-local-secret',
});

/** Where the local services listen. A service that was not started has no endpoint. */
export interface LocalEndpoints {
  /** Kinesis (kinesalite or kinesis-local), e.g. `http://127.0.0.1:4567`. */
  readonly kinesis?: string;
  /** DynamoDB (dynalite). */
  readonly dynamodb?: string;
  /** S3 (fauxqs), path-style. */
  readonly s3?: string;
  /** The ingest gateway's base URL (`POST ${ingest}/v1/events`). */
  readonly ingest?: string;
}

/**
 * Everything needed to reach a running local twin, as plain data: it can be passed to another process
 * (JSON) or to vitest's `provide`/`inject`.
 */
export interface LocalTwinInfo {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: LocalEndpoints;
  /** Which Kinesis emulator serves `endpoints.kinesis`. */
  readonly kinesisEngine: 'fast' | 'faithful' | null;
  /** The ingest gateway, when it runs: its stream and an accepted API key. */
  readonly ingest?: { readonly url: string; readonly apiKey: string; readonly streamName: string };
}

/** Client configuration shared by every AWS SDK v3 client aimed at the local twin. */
export interface LocalClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly requestHandler: NodeHttpHandler;
  readonly maxAttempts: number;
}

/** S3 client configuration: path-style addressing, checksums only when required (docs/local-emulators.md). */
export interface LocalS3ClientConfig extends LocalClientConfig {
  readonly forcePathStyle: true;
  readonly requestChecksumCalculation: 'WHEN_REQUIRED';
  readonly responseChecksumValidation: 'WHEN_REQUIRED';
}

function base(info: LocalTwinInfo, endpoint: string | undefined, service: string): LocalClientConfig {
  if (!endpoint) throw new Error(`The local twin runs no ${service} service.`);
  return {
    endpoint,
    region: info.region,
    credentials: { ...info.credentials },
    // HTTP/1.1: kinesalite cannot speak HTTP/2, and SubscribeToShard on kinesis-local needs HTTP/1.1.
    requestHandler: http1RequestHandler(NodeHttpHandler),
    maxAttempts: 3,
  };
}

/** `new KinesisClient(kinesisClientConfig(info))`. @throws Error when the stack runs no Kinesis. */
export function kinesisClientConfig(info: LocalTwinInfo): LocalClientConfig {
  return base(info, info.endpoints.kinesis, 'Kinesis');
}

/** `new DynamoDBClient(dynamoDBClientConfig(info))`. @throws Error when the stack runs no DynamoDB. */
export function dynamoDBClientConfig(info: LocalTwinInfo): LocalClientConfig {
  return base(info, info.endpoints.dynamodb, 'DynamoDB');
}

/** `new S3Client(s3ClientConfig(info))`. @throws Error when the stack runs no S3. */
export function s3ClientConfig(info: LocalTwinInfo): LocalS3ClientConfig {
  return {
    ...base(info, info.endpoints.s3, 'S3'),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * Environment variables that point AWS SDKs and CLIs at the local twin (`AWS_ENDPOINT_URL_<SERVICE>`
 * is read by the AWS SDKs and the AWS CLI), plus `SHARDLINE_INGEST_URL`, `SHARDLINE_INGEST_API_KEY`
 * and `SHARDLINE_STREAM` when the ingest gateway runs.
 */
export function localTwinEnv(info: LocalTwinInfo): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: info.region,
    AWS_DEFAULT_REGION: info.region,
    AWS_ACCESS_KEY_ID: info.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.credentials.secretAccessKey,
  };
  if (info.endpoints.kinesis) env.AWS_ENDPOINT_URL_KINESIS = info.endpoints.kinesis;
  if (info.endpoints.dynamodb) env.AWS_ENDPOINT_URL_DYNAMODB = info.endpoints.dynamodb;
  if (info.endpoints.s3) env.AWS_ENDPOINT_URL_S3 = info.endpoints.s3;
  if (info.ingest) {
    env.SHARDLINE_INGEST_URL = info.ingest.url;
    env.SHARDLINE_INGEST_API_KEY = info.ingest.apiKey;
    env.SHARDLINE_STREAM = info.ingest.streamName;
  }
  return env;
}
