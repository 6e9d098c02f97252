import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisClientLike } from '../../retrieval/kinesis/PollingShardReader.js';
import { maxCallsInWindow } from '../callRates.js';

/** A Kinesis client wrapper that counts `GetRecords` calls per shard. */
export interface InstrumentedKinesisClient {
  /** Pass this to the consumer (or to your own loop). */
  readonly client: KinesisClientLike;
  /** Start times (`performance.now()`) of the `GetRecords` calls, per shard id. */
  getRecordsCallTimesMs(): ReadonlyMap<string, readonly number[]>;
  /** The most `GetRecords` calls any one shard received within any `windowMs` (default 1000). */
  maxGetRecordsPerShard(windowMs?: number): number;
  /** Calls of every command, by command name (`GetRecordsCommand`, `ListShardsCommand`, ...). */
  callCounts(): ReadonlyMap<string, number>;
}

/**
 * Wraps a Kinesis client to count calls, attributing each `GetRecords` to its shard by following the
 * iterator chain (`GetShardIterator` → `NextShardIterator`); iterators are opaque, so this is the only
 * faithful way to count per shard from outside. For benchmarks and tests of the 5 calls/s budget.
 */
export function instrumentKinesisClient(inner: KinesisClientLike): InstrumentedKinesisClient {
  const shardOfIterator = new Map<string, string>();
  const times = new Map<string, number[]>();
  const counts = new Map<string, number>();
  const client: KinesisClientLike = {
    send: (async (command: { constructor: { name: string } }, options?: unknown) => {
      const name = command.constructor.name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (command instanceof GetShardIteratorCommand) {
        const output = await inner.send(command, options as never);
        if (output.ShardIterator && command.input.ShardId)
          shardOfIterator.set(output.ShardIterator, command.input.ShardId);
        return output;
      }
      if (command instanceof GetRecordsCommand) {
        const iterator = command.input.ShardIterator ?? '';
        const shardId = shardOfIterator.get(iterator) ?? '(unknown)';
        shardOfIterator.delete(iterator);
        const list = times.get(shardId) ?? [];
        list.push(performance.now());
        times.set(shardId, list);
        const output = (await inner.send(command, options as never)) as GetRecordsCommandOutput;
        if (output.NextShardIterator) shardOfIterator.set(output.NextShardIterator, shardId);
        return output;
      }
      return inner.send(command as never, options as never);
    }) as KinesisClientLike['send'],
  };
  return {
    client,
    getRecordsCallTimesMs: () => times,
    maxGetRecordsPerShard: (windowMs = 1_000) =>
      Math.max(0, ...[...times.values()].map((list) => maxCallsInWindow(list, windowMs))),
    callCounts: () => counts,
  };
}
