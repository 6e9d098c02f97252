import type { ShardDescription } from './shardLineage.js';

/** The stream-listing port: every shard of the stream (open and closed within retention). */
export interface ShardLister {
  listShards(signal?: AbortSignal): Promise<ShardDescription[]>;
}
