import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException as TableNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  SplitShardCommand,
  ResourceNotFoundException as StreamNotFoundException,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  dynamoDBClientConfig,
  kinesisClientConfig,
  type LocalTwinInfo,
  localTwinEnv,
  s3ClientConfig,
} from './clientConfig.js';
import { ResourceNotReadyError } from './errors.js';

/** A stream created by {@link LocalTwinClient.createStream}. */
export interface LocalStream {
  readonly streamName: string;
  readonly streamArn: string;
  /** Shard ids in the order the emulator lists them. */
  readonly shardIds: readonly string[];
}

/** Options of {@link LocalTwinClient.createStream}. */
export interface CreateStreamOptions {
  /** @defaultValue 1 */
  readonly shardCount?: number;
  /** How long to wait for `ACTIVE`. @defaultValue 30000 */
  readonly timeoutMs?: number;
}

/**
 * A name that no other test or run uses: `<prefix>-<time>-<random>`, lower case, valid for Kinesis
 * streams, DynamoDB tables (3–255 characters) and S3 buckets (3–63 characters).
 */
export function uniqueName(prefix = 'shardline'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40);
  return `${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Helpers over a running local twin, built from its plain {@link LocalTwinInfo} (so another process,
 * or a test worker, can use them too). Owns the SDK clients it creates; `close()` destroys them.
 */
export class LocalTwinClient {
  /** Where the services are and how to reach them. */
  readonly info: LocalTwinInfo;
  #kinesis: KinesisClient | undefined;
  #dynamodb: DynamoDBClient | undefined;
  #s3: S3Client | undefined;

  constructor(info: LocalTwinInfo) {
    this.info = info;
  }

  /** Environment variables that point AWS SDKs and CLIs at the stack. */
  get env(): Record<string, string> {
    return localTwinEnv(this.info);
  }

  /**
   * A Kinesis client owned by this object: made on first use, destroyed by `close()`. Code that outlives
   * it (a long-running app) makes its own from `kinesisClientConfig(info)`.
   */
  get kinesis(): KinesisClient {
    this.#kinesis ??= new KinesisClient(kinesisClientConfig(this.info));
    return this.#kinesis;
  }

  /** A DynamoDB client owned by this object (made on first use, destroyed by `close()`). */
  get dynamodb(): DynamoDBClient {
    this.#dynamodb ??= new DynamoDBClient(dynamoDBClientConfig(this.info));
    return this.#dynamodb;
  }

  /** An S3 client owned by this object (made on first use, destroyed by `close()`). */
  get s3(): S3Client {
    this.#s3 ??= new S3Client(s3ClientConfig(this.info));
    return this.#s3;
  }

  /**
   * Creates a stream and waits until it is `ACTIVE`.
   *
   * @throws {@link ResourceNotReadyError} when it is not active within the timeout.
   */
  async createStream(streamName: string, options: CreateStreamOptions = {}): Promise<LocalStream> {
    const shardCount = options.shardCount ?? 1;
    await this.kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
    return this.waitForStream(streamName, options.timeoutMs);
  }

  /**
   * Waits until a stream is `ACTIVE` (after creation or a reshard) and lists its shards.
   *
   * @throws {@link ResourceNotReadyError} when it is not active within `timeoutMs`.
   */
  async waitForStream(streamName: string, timeoutMs = 30_000): Promise<LocalStream> {
    const summary = await this.#poll(`stream ${streamName}`, timeoutMs, async () => {
      try {
        const { StreamDescriptionSummary: s } = await this.kinesis.send(
          new DescribeStreamSummaryCommand({ StreamName: streamName }),
        );
        return s?.StreamStatus === 'ACTIVE' ? s : undefined;
      } catch (error) {
        if (error instanceof StreamNotFoundException) return undefined;
        throw error;
      }
    });
    const shardIds: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.kinesis.send(
        nextToken
          ? new ListShardsCommand({ NextToken: nextToken })
          : new ListShardsCommand({ StreamName: streamName }),
      );
      for (const shard of page.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
      nextToken = page.NextToken;
    } while (nextToken);
    return {
      streamName,
      streamArn: summary.StreamARN ?? `arn:aws:kinesis:${this.info.region}:000000000000:stream/${streamName}`,
      shardIds,
    };
  }

  /**
   * Splits a shard at the middle of its hash key range (SplitShard) and waits until the stream is
   * `ACTIVE` again. Resharding needs the faithful engine (`kinesis: 'faithful'`); kinesalite has none.
   *
   * @returns The stream after the split: the parent and its two children among its shards.
   * @throws Error when the stream has no such shard; {@link ResourceNotReadyError} when the stream is
   *   not active again within `timeoutMs`.
   */
  async splitShard(streamName: string, shardId: string, timeoutMs = 30_000): Promise<LocalStream> {
    const { Shards = [] } = await this.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    const range = Shards.find((s) => s.ShardId === shardId)?.HashKeyRange;
    if (!range?.StartingHashKey || !range.EndingHashKey) {
      throw new Error(`Stream ${streamName} has no shard ${shardId}`);
    }
    const middle = (BigInt(range.StartingHashKey) + BigInt(range.EndingHashKey)) / 2n;
    await this.kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: shardId,
        NewStartingHashKey: String(middle),
      }),
    );
    return this.waitForStream(streamName, timeoutMs);
  }

  /**
   * Merges two adjacent shards (MergeShards) and waits until the stream is `ACTIVE` again. Needs the
   * faithful engine, like {@link LocalTwinClient.splitShard}.
   *
   * @returns The stream after the merge, the merged child among its shards.
   * @throws {@link ResourceNotReadyError} when the stream is not active again within `timeoutMs`.
   */
  async mergeShards(
    streamName: string,
    shardId: string,
    adjacentShardId: string,
    timeoutMs = 30_000,
  ): Promise<LocalStream> {
    await this.kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: shardId,
        AdjacentShardToMerge: adjacentShardId,
      }),
    );
    return this.waitForStream(streamName, timeoutMs);
  }

  /** Deletes a stream (and does not wait). Missing streams are ignored. */
  async deleteStream(streamName: string): Promise<void> {
    try {
      await this.kinesis.send(
        new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }),
      );
    } catch (error) {
      if (!(error instanceof StreamNotFoundException)) throw error;
    }
  }

  /**
   * Creates a table and waits until it is `ACTIVE`.
   *
   * @throws {@link ResourceNotReadyError} when it is not active within `timeoutMs`.
   */
  async createTable(input: CreateTableCommandInput, timeoutMs = 30_000): Promise<void> {
    await this.dynamodb.send(new CreateTableCommand(input));
    await this.waitForTable(input.TableName ?? '', timeoutMs);
  }

  /**
   * Creates a lease table with the Java KCL's key schema (`leaseKey` string hash key, on-demand) and
   * waits until it is `ACTIVE`.
   */
  async createLeaseTable(tableName: string, timeoutMs = 30_000): Promise<void> {
    await this.createTable(
      {
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
      timeoutMs,
    );
  }

  /**
   * Waits until a table is `ACTIVE`. Polls every 25–250 ms (the SDK's waiter waits 20 s between polls
   * by default).
   */
  async waitForTable(tableName: string, timeoutMs = 30_000): Promise<void> {
    await this.#poll(`table ${tableName}`, timeoutMs, async () => {
      try {
        const { Table } = await this.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
        return Table?.TableStatus === 'ACTIVE' ? Table : undefined;
      } catch (error) {
        if (error instanceof TableNotFoundException) return undefined;
        throw error;
      }
    });
  }

  /** Creates a bucket (ready at once on the emulator). */
  async createBucket(bucket: string): Promise<void> {
    await this.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }

  /** Destroys the helper clients. The services keep running. */
  close(): void {
    this.#kinesis?.destroy();
    this.#dynamodb?.destroy();
    this.#s3?.destroy();
    this.#kinesis = this.#dynamodb = this.#s3 = undefined;
  }

  async #poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let delayMs = 25;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() + delayMs > deadline) {
        throw new ResourceNotReadyError(what, `${what} was not ACTIVE within ${timeoutMs} ms`);
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 250);
    }
  }
}
