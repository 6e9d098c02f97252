import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { inject } from 'vitest';

/**
 * The run's local twin as the shared vitest global setup provides it. This package may not import
 * `@shardline/local` (it depends on no Shardline package, tests included, so the graph stays free of
 * cycles), so it reads the provided plain data itself.
 */
interface ProvidedLocalTwin {
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: { readonly kinesis?: string };
}

export function localKinesisClient(): KinesisClient {
  const info = inject('shardline:local' as never) as unknown as ProvidedLocalTwin;
  if (!info?.endpoints?.kinesis) throw new Error('The integration global setup provided no local Kinesis');
  return new KinesisClient({
    endpoint: info.endpoints.kinesis,
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

/** A record read back, with the shard it was read from. */
export interface ReadRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/**
 * Reads every shard of a stream from where the last `drain()` stopped (TRIM_HORIZON at first), so each
 * call returns exactly the records written since the previous one.
 */
export class StreamTail {
  readonly #client: KinesisClient;
  readonly #streamName: string;
  readonly #iterators = new Map<string, string>();

  constructor(client: KinesisClient, streamName: string) {
    this.#client = client;
    this.#streamName = streamName;
  }

  async start(shardIds: readonly string[]): Promise<void> {
    for (const shardId of shardIds) {
      const { ShardIterator } = await this.#client.send(
        new GetShardIteratorCommand({
          StreamName: this.#streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      this.#iterators.set(shardId, ShardIterator!);
    }
  }

  async drain(): Promise<ReadRecord[]> {
    const out: ReadRecord[] = [];
    for (const [shardId, start] of this.#iterators) {
      let iterator = start;
      for (;;) {
        const page = await this.#client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        iterator = page.NextShardIterator!;
        for (const r of page.Records ?? []) {
          out.push({
            shardId,
            sequenceNumber: r.SequenceNumber!,
            partitionKey: r.PartitionKey!,
            data: r.Data!,
          });
        }
        if ((page.Records ?? []).length === 0) break;
      }
      this.#iterators.set(shardId, iterator);
    }
    return out;
  }
}
