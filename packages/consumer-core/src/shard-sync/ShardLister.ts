import type { StreamIdentity } from '../leases/streamIdentity.js';
import type { InitialPosition, ShardDescription } from './shardLineage.js';

/**
 * The stream-listing port: every shard of the stream (open and closed within retention), or — given a
 * starting point — only the shards that can hold records from that point on (`ListShards`'
 * `ShardFilter`). A lister that cannot filter returns every shard; lineage planning is correct either way.
 */
export interface ShardLister {
  listShards(signal?: AbortSignal, from?: InitialPosition): Promise<ShardDescription[]>;
  /**
   * The stream's ARN and creation time (`DescribeStreamSummary`), for the stream identity guard.
   * Optional: without it, leases are neither stamped nor checked.
   */
  describeStream?(signal?: AbortSignal): Promise<StreamIdentity>;
}
