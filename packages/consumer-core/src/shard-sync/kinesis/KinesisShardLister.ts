import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type ListShardsCommandOutput,
  type ShardFilter,
} from '@aws-sdk/client-kinesis';
import { clientWithDeadline, retry } from '@shardline/common';
import { DependencyError } from '../../errors.js';
import type { StreamIdentity } from '../../leases/streamIdentity.js';
import { translateKinesisError } from '../../retrieval/kinesis/awsErrors.js';
import type { KinesisClientLike } from '../../retrieval/kinesis/PollingShardReader.js';
import type { ShardLister } from '../ShardLister.js';
import type { InitialPosition, ShardDescription } from '../shardLineage.js';

const FILTER_REJECTIONS = new Set([
  'ValidationException',
  'InvalidArgumentException',
  'SerializationException',
]);

/** Options of {@link KinesisShardLister}. */
export interface KinesisShardListerOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: KinesisClientLike;
  /** The stream, by name... */
  readonly streamName?: string;
  /** ...or by ARN (exactly one of the two). */
  readonly streamArn?: string;
  /**
   * The deadline of each `ListShards` page, SDK retries included; a page still unanswered then is
   * aborted and retried with the listing's backoff. @defaultValue 10000
   */
  readonly callTimeoutMs?: number;
}

/**
 * Lists shards with `ListShards` (1,000 calls/s per stream, unlike `DescribeStream`'s 10/s per account;
 * docs/kinesis-limits.md), following `NextToken` pages; throttling and transient errors are retried with jittered backoff.
 */
export class KinesisShardLister implements ShardLister {
  readonly #client: KinesisClientLike;
  readonly #stream: { StreamName?: string; StreamARN?: string };
  #isFilterUnsupported = false;

  constructor(options: KinesisShardListerOptions) {
    this.#client = clientWithDeadline(options.client, options.callTimeoutMs ?? 10_000);
    this.#stream = options.streamArn ? { StreamARN: options.streamArn } : { StreamName: options.streamName };
  }

  async listShards(signal?: AbortSignal, from?: InitialPosition): Promise<ShardDescription[]> {
    const filter: ShardFilter | undefined =
      from === undefined || from === 'TRIM_HORIZON' || this.#isFilterUnsupported
        ? undefined
        : from === 'LATEST'
          ? { Type: 'AT_LATEST' }
          : { Type: 'AT_TIMESTAMP', Timestamp: from.atTimestamp };
    if (!filter) return this.#list(undefined, signal);
    try {
      return await this.#list(filter, signal);
    } catch (error) {
      // Services without ShardFilter (kinesalite, older endpoints) reject it: list everything instead.
      if (!(error instanceof DependencyError) || !FILTER_REJECTIONS.has(error.errorName ?? '')) throw error;
      this.#isFilterUnsupported = true;
      return this.#list(undefined, signal);
    }
  }

  /**
   * The stream's ARN and creation time (`DescribeStreamSummary`: 20 calls/s per account), retried on
   * throttling and transient faults.
   * @throws `DependencyError` when the stream cannot be described (missing, forbidden).
   */
  async describeStream(signal?: AbortSignal): Promise<StreamIdentity> {
    const output = await retry(
      async () => {
        try {
          return await this.#client.send(new DescribeStreamSummaryCommand({ ...this.#stream }), {
            abortSignal: signal,
          });
        } catch (error) {
          throw translateKinesisError('DescribeStreamSummary', error);
        }
      },
      { maxAttempts: 6, initialDelayMs: 200, maxDelayMs: 5_000, signal },
    );
    const summary = output.StreamDescriptionSummary;
    const createdAt = summary?.StreamCreationTimestamp;
    if (!summary?.StreamARN || !(createdAt instanceof Date)) {
      throw new DependencyError(
        'kinesis',
        'DescribeStreamSummary',
        new Error('the answer has no StreamARN or StreamCreationTimestamp'),
        false,
      );
    }
    return { streamArn: summary.StreamARN, createdAt };
  }

  async #list(filter: ShardFilter | undefined, signal: AbortSignal | undefined): Promise<ShardDescription[]> {
    const shards: ShardDescription[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page: ListShardsCommandOutput = await retry(
        async () => {
          try {
            // A page after the first names only the token (ListShards rejects StreamName with NextToken).
            return await this.#client.send(
              new ListShardsCommand(
                token
                  ? { NextToken: token }
                  : { ...this.#stream, ...(filter ? { ShardFilter: filter } : {}) },
              ),
              { abortSignal: signal },
            );
          } catch (error) {
            throw translateKinesisError('ListShards', error);
          }
        },
        { maxAttempts: 6, initialDelayMs: 200, maxDelayMs: 5_000, signal },
      );
      for (const shard of page.Shards ?? []) {
        if (!shard.ShardId) continue;
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (id): id is string => typeof id === 'string' && id.length > 0,
        );
        const range = shard.HashKeyRange;
        shards.push({
          shardId: shard.ShardId,
          parentShardIds: parents.sort(),
          hashKeyRange:
            range?.StartingHashKey !== undefined && range.EndingHashKey !== undefined
              ? { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey }
              : undefined,
          isOpen: shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }
}
