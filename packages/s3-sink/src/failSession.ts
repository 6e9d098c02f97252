import type { ShardSession } from '@shardline/consumer-core';

/**
 * Ends a shard's session after a failure that is not one record's, through consumer-core's
 * `ShardSession.fail`: no checkpoint is written any more, `records$` completes, and the lease is
 * released with a `SHARD_FAILED` event, so the next owner (or this worker after its failure backoff)
 * redoes the shard from its last checkpoint. Failures in a row at one checkpoint are counted in the
 * lease item, and the shard is halted after `maxShardFailures` — never left leased with nobody
 * archiving it, never bounced between workers forever.
 *
 * The one place the sink gives up a shard: kept apart so that the way it does so can change alone.
 */
export function failSession(session: ShardSession, error: Error): void {
  session.fail(error);
}
