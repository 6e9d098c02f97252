import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/** A record read back, with the shard it was read from. */
export interface TailRecord {
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

  /** Takes a TRIM_HORIZON iterator for each shard. */
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

  /** Every record written since the previous call, shard by shard. */
  async drain(): Promise<TailRecord[]> {
    const out: TailRecord[] = [];
    for (const [shardId, start] of this.#iterators) {
      let iterator = start;
      for (;;) {
        const page = await this.#client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
        );
        iterator = page.NextShardIterator!;
        const records = page.Records ?? [];
        for (const r of records) {
          out.push({
            shardId,
            sequenceNumber: r.SequenceNumber!,
            partitionKey: r.PartitionKey!,
            data: r.Data!,
          });
        }
        if (records.length === 0) break;
      }
      this.#iterators.set(shardId, iterator);
    }
    return out;
  }
}
