import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { inject } from 'vitest';

/**
 * The run's local twin as the shared vitest global setup provides it. This package may not import
 * `@shardline/local` (which depends on it: its tests would close a cycle), so it reads the provided
 * plain data itself. Helpers that need no twin (`StreamTail`, the seeded PRNG) come from
 * `@shardline/test-kit`, which depends on no Shardline package.
 */
interface ProvidedLocalTwin {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: { readonly kinesis?: string };
}

/** The local Kinesis emulator's endpoint. */
export function localKinesisEndpoint(): string {
  const info = inject('shardline:local' as never) as unknown as ProvidedLocalTwin;
  if (!info?.endpoints?.kinesis) throw new Error('The integration global setup provided no local Kinesis');
  return info.endpoints.kinesis;
}

/** A client of the local Kinesis, or of `endpoint` (a fault proxy in front of it). */
export function localKinesisClient(endpoint?: string): KinesisClient {
  const info = inject('shardline:local' as never) as unknown as ProvidedLocalTwin;
  if (!info?.endpoints?.kinesis) throw new Error('The integration global setup provided no local Kinesis');
  return new KinesisClient({
    endpoint: endpoint ?? info.endpoints.kinesis,
    region: info.region,
    credentials: { ...info.credentials },
    // kinesalite speaks HTTP/1.1 only
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 3,
  });
}

export function uniqueStreamName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export async function createStream(
  client: KinesisClient,
  streamName: string,
  shardCount: number,
): Promise<string[]> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (let i = 0; i < 300; i++) {
    const { StreamDescriptionSummary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await sleep(50);
  }
  const { Shards } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  return (Shards ?? []).map((s) => s.ShardId!);
}

export async function deleteStream(client: KinesisClient, streamName: string): Promise<void> {
  await client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => {});
}
