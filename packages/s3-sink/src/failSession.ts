import type { RecordBatch, ShardSession } from '@shardline/consumer-core';

/** What {@link failSession} needs to end a session without `ShardSession.fail`. */
export interface SessionExit {
  /** The batches handed over and not yet passed by a checkpoint. */
  readonly heldBatches: readonly RecordBatch[];
  /** Unsubscribes from `records$` (the consumer then releases the lease). */
  readonly stopReading: () => void;
}

/**
 * Ends a shard's session after a failure that is not one record's: no checkpoint is written any more
 * and the lease is released, so the next owner (or this worker, later) redoes the shard from its last
 * checkpoint. Never leaves the lease held with nobody archiving the shard.
 *
 * With consumer-core's `ShardSession.fail(error)` this is that call (it also counts failures at the
 * same position and halts the shard after its bound). Without it: every held batch is released
 * (handled, not checkpointed) and `records$` is unsubscribed, which makes the consumer write its last
 * checkpoint — only positions the sink checkpointed, after their objects were durable — and release
 * the lease at once.
 */
export function failSession(session: ShardSession, error: Error, exit: SessionExit): void {
  const fail = (session as { fail?: (error: Error) => unknown }).fail;
  if (typeof fail === 'function') {
    void Promise.resolve(fail.call(session, error)).catch(() => {});
    return;
  }
  for (const batch of exit.heldBatches) batch.release();
  exit.stopReading();
}
