import { backoffDelayMs, sleep } from '@shardline/common';
import { RecordProcessingError } from '../errors.js';
import { asError, type ConsumerEvent } from '../events.js';
import type { Logger } from '../internal/logger.js';
import type { RecordBatch, ShardInfo } from '../worker/RecordBatch.js';
import { type ShardConsumer, shardInfoOf } from '../worker/ShardConsumer.js';

/** Options of `Consumer.run()`: the per-batch handler and its retry and poison policy. */
export interface RunOptions {
  /**
   * Handles one batch. Resolve when the batch is done: it is then checkpointed (coalesced, see
   * `checkpointIntervalMs`). Batches of one shard are handled one at a time, in order; shards in parallel.
   */
  readonly processBatch: (batch: RecordBatch, shard: ShardInfo) => Promise<void>;
  /** Tries per batch before it counts as poison. @defaultValue 5 */
  readonly maxAttempts?: number;
  /** First retry delay (jittered, doubling). @defaultValue 500 */
  readonly retryInitialDelayMs?: number;
  /** Largest retry delay. @defaultValue 30000 */
  readonly retryMaxDelayMs?: number;
  /**
   * Dead-letter handler for a poison batch (one that failed `maxAttempts` times). When given, the batch
   * is handed to it and then checkpointed past. When absent (or when it throws), the shard's session
   * fails as with `ShardSession.fail`: nothing is checkpointed past the batch, the lease is released
   * with a `SHARD_FAILED` event and the failure counted in the lease item, and the shard is redone from
   * its last checkpoint by the next owner (this worker after `shardFailureBackoffMs`). After
   * `maxShardFailures` failures in a row at that checkpoint the shard is halted (`SHARD_HALTED`, shown by
   * `shardline status`, left alone by every worker) until `shardline skip` moves past the batch. Other
   * shards go on.
   */
  readonly onPoisonBatch?: (
    batch: RecordBatch,
    error: RecordProcessingError,
    shard: ShardInfo,
  ) => Promise<void>;
}

/** What the run policy needs from the consumer it runs in. */
export interface RunShardContext {
  readonly logger: Logger;
  /** Reports an event through the worker's listeners (so `events$` sees it in order). */
  readonly emit: (event: ConsumerEvent) => void;
}

/**
 * The `run()` policy for one shard: pulls its batches one at a time, hands each to `processBatch`
 * (retried with backoff up to `maxAttempts`), checkpoints it once handled, and treats a batch that keeps
 * failing as poison (dead-lettered through `onPoisonBatch` and checkpointed past, or the session failed:
 * released without checkpointing, redone elsewhere, halted after `maxShardFailures` in a row).
 */
export async function runShard(
  shardConsumer: ShardConsumer,
  options: RunOptions,
  context: RunShardContext,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = {
    initialDelayMs: options.retryInitialDelayMs ?? 500,
    maxDelayMs: options.retryMaxDelayMs ?? 30_000,
  };
  const shard: ShardInfo = shardInfoOf(shardConsumer);
  if (!shardConsumer.claim()) {
    context.logger.error('Shard already consumed through shards$; run() leaves it alone', {
      shardId: shard.shardId,
    });
    return;
  }
  for (;;) {
    const batch = await shardConsumer.next();
    if (!batch) return;
    let lastError: unknown;
    let isDone = false;
    for (let attempt = 1; attempt <= maxAttempts && shardConsumer.isActive; attempt++) {
      try {
        await options.processBatch(batch, shard);
        isDone = true;
        break;
      } catch (error) {
        lastError = error;
        if (attempt === maxAttempts || !shardConsumer.isActive) break;
        const delayMs = backoffDelayMs(attempt, backoff);
        emitRetry(context, shardConsumer.shardId, attempt, delayMs, error);
        await sleep(delayMs);
      }
    }
    if (isDone) {
      await checkpoint(batch, context);
      continue;
    }
    if (!shardConsumer.isActive) {
      // Stopping or lease lost while retrying: leave the batch unhandled (it is read again later).
      batch.release();
      return;
    }
    const error = new RecordProcessingError(
      shardConsumer.shardId,
      maxAttempts,
      batch.records[0]?.sequenceNumber,
      lastError,
    );
    if (options.onPoisonBatch) {
      try {
        await options.onPoisonBatch(batch, error, shard);
        context.emit({
          type: 'BATCH_DEAD_LETTERED',
          shardId: shardConsumer.shardId,
          firstSequenceNumber: batch.records[0]?.sequenceNumber,
          recordCount: batch.records.length,
          error,
        });
        await checkpoint(batch, context);
        continue;
      } catch (deadLetterError) {
        context.logger.error('The dead-letter handler failed; failing the shard session', {
          shardId: shardConsumer.shardId,
          error: deadLetterError,
        });
      }
    }
    shardConsumer.fail(error);
    return;
  }
}

async function checkpoint(batch: RecordBatch, context: RunShardContext): Promise<void> {
  try {
    await batch.checkpoint();
  } catch (error) {
    context.emit({ type: 'ERROR', shardId: batch.shardId, error: asError(error) });
  }
}

function emitRetry(
  context: RunShardContext,
  shardId: string,
  attempt: number,
  delayMs: number,
  error: unknown,
): void {
  context.emit({
    type: 'RETRY',
    operation: 'processBatch',
    shardId,
    attempt,
    delayMs,
    error: asError(error),
  });
}
