import { Observable } from 'rxjs';
import {
  type ConsumerOptions,
  type ResolvedConsumerConfig,
  resolveConsumerConfig,
} from '../config/resolveConsumerConfig.js';
import { InvalidStateError, RecordProcessingError } from '../errors.js';
import { asError, type ConsumerEvent, type ConsumerState } from '../events.js';
import { backoffDelayMs } from '../internal/retry.js';
import { sleep } from '../internal/sleep.js';
import { DynamoDBLeaseStore } from '../leases/dynamodb/DynamoDBLeaseStore.js';
import { PollingShardReader } from '../retrieval/kinesis/PollingShardReader.js';
import { KinesisShardLister } from '../shard-sync/kinesis/KinesisShardLister.js';
import type { RecordBatch, ShardCompletionReason, ShardInfo } from '../worker/RecordBatch.js';
import type { ShardProcessor } from '../worker/ShardProcessor.js';
import { Worker, type WorkerPorts } from '../worker/Worker.js';

/** One leased shard, as a stream of batches. */
export interface ShardSession extends ShardInfo {
  /**
   * The shard's batches, in order. Completes when the shard was read to its end, the lease was lost,
   * or the consumer is stopping; `completion` then says which. Subscribe once: a batch is handed out
   * to one subscriber only. The reader stays at most `maxBufferedBatches`/`maxBufferedBytes` ahead of
   * the batches handled (checkpointed or released), so a slow subscriber slows the reader.
   */
  readonly records$: Observable<RecordBatch>;
  /**
   * Why the session ended: `SHARD_END` once `SHARD_END` is checkpointed (after your checkpoint of the
   * last record), `LEASE_LOST`, or `SHUTDOWN` once the lease was released.
   */
  readonly completion: Promise<ShardCompletionReason>;
}

/** Options of {@link Consumer.run}. */
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
   * Dead-letter handler for a poison batch. When given, the batch is handed to it and then checkpointed
   * past; when absent (or when it throws), the shard is halted (its lease kept, so the batch is not
   * bounced to other workers), a `SHARD_HALTED` event is emitted, and other shards go on.
   */
  readonly onPoisonBatch?: (
    batch: RecordBatch,
    error: RecordProcessingError,
    shard: ShardInfo,
  ) => Promise<void>;
}

/** A Kinesis consumer: one worker of an application. Made by {@link createConsumer}. */
export interface Consumer {
  /** One session per shard this worker leases (the running ones are replayed to a new subscriber). */
  readonly shards$: Observable<ShardSession>;
  /** Lease taken/lost/released, shard started/ended/halted, checkpoints, retries, errors. */
  readonly events$: Observable<ConsumerEvent>;
  /** `idle`, `starting`, `running`, `stopping` or `stopped`. */
  readonly state: ConsumerState;
  /** This worker's id in the lease table. */
  readonly workerId: string;
  /**
   * Creates the lease table if missing, syncs shards, starts taking leases. Subscribe to `shards$`
   * first (or use `run()`).
   * @throws `LeaseTableSchemaError`, `DependencyError`, `InvalidStateError` (after stop).
   */
  start(): Promise<void>;
  /**
   * Graceful stop: stop taking and fetching, let handed-out batches finish (up to `shutdownTimeoutMs`),
   * final checkpoints, release the leases so another worker takes them at once. Memoized.
   */
  stop(): Promise<void>;
  /**
   * Processes every leased shard with `processBatch` (retries, poison policy, checkpoints after each
   * batch), and starts the consumer. Resolves once started; `stop()` ends it.
   * @throws like {@link Consumer.start}; `InvalidStateError` when called twice.
   */
  run(options: RunOptions): Promise<void>;
}

/**
 * Creates a consumer for one application on one stream: KCL-compatible DynamoDB leases and
 * checkpoints, resharding handled, records as RxJS streams.
 *
 * @example
 * ```ts
 * const consumer = createConsumer({
 *   streamName: 'orders',
 *   applicationName: 'orders-to-warehouse',
 *   kinesisClient: new KinesisClient({}),
 *   dynamoDBClient: new DynamoDBClient({}),
 *   initialPosition: 'TRIM_HORIZON',
 * });
 * await consumer.run({
 *   processBatch: async (batch) => {
 *     for (const record of batch.records) await save(JSON.parse(new TextDecoder().decode(record.data)));
 *   },
 * });
 * process.once('SIGTERM', () => void consumer.stop());
 * ```
 *
 * @throws `ConfigurationError` listing every problem with `options`.
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const config = resolveConsumerConfig(options);
  return createConsumerWithPorts(config, {
    leaseStore: new DynamoDBLeaseStore({
      client: config.dynamoDBClient,
      tableName: config.leaseTableName,
      logger: config.logger,
    }),
    shardReader: new PollingShardReader({
      client: config.kinesisClient,
      streamName: config.streamName,
      streamArn: config.streamArn,
      maxRecordsPerFetch: config.maxRecordsPerFetch,
      idleTimeBetweenReadsMs: config.idleTimeBetweenReadsMs,
      clock: config.clock,
    }),
    shardLister: new KinesisShardLister({
      client: config.kinesisClient,
      streamName: config.streamName,
      streamArn: config.streamArn,
    }),
  });
}

/** A consumer over given ports (the in-memory fakes of `./testing`, or custom adapters). */
export function createConsumerWithPorts(config: ResolvedConsumerConfig, ports: WorkerPorts): Consumer {
  return new RxConsumer(new Worker(config, ports), config);
}

class RxConsumer implements Consumer {
  readonly #worker: Worker;
  readonly #config: ResolvedConsumerConfig;
  readonly #sessions = new WeakMap<ShardProcessor, ShardSession>();
  #isRunCalled = false;
  readonly shards$: Observable<ShardSession>;
  readonly events$: Observable<ConsumerEvent>;

  constructor(worker: Worker, config: ResolvedConsumerConfig) {
    this.#worker = worker;
    this.#config = config;
    this.shards$ = new Observable<ShardSession>((subscriber) =>
      worker.onSession((processor) => subscriber.next(this.#sessionFor(processor))),
    );
    this.events$ = new Observable<ConsumerEvent>((subscriber) =>
      worker.onEvent((event) => subscriber.next(event)),
    );
  }

  get state(): ConsumerState {
    return this.#worker.state;
  }

  get workerId(): string {
    return this.#worker.workerId;
  }

  start(): Promise<void> {
    return this.#worker.start();
  }

  stop(): Promise<void> {
    return this.#worker.stop();
  }

  async run(options: RunOptions): Promise<void> {
    if (this.#isRunCalled) throw new InvalidStateError('run() was already called on this consumer.');
    if (typeof options?.processBatch !== 'function') {
      throw new InvalidStateError('run() needs a processBatch function.');
    }
    this.#isRunCalled = true;
    this.#worker.onSession((processor) => void this.#runShard(processor, options));
    await this.#worker.start();
  }

  async #runShard(processor: ShardProcessor, options: RunOptions): Promise<void> {
    const maxAttempts = options.maxAttempts ?? 5;
    const backoff = {
      initialDelayMs: options.retryInitialDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 30_000,
    };
    const shard: ShardInfo = shardInfoOf(processor);
    if (!processor.claim()) {
      this.#config.logger.error('Shard already consumed through shards$; run() leaves it alone', {
        shardId: shard.shardId,
      });
      return;
    }
    for (;;) {
      const batch = await processor.next();
      if (!batch) return;
      let lastError: unknown;
      let isDone = false;
      for (let attempt = 1; attempt <= maxAttempts && processor.isActive; attempt++) {
        try {
          await options.processBatch(batch, shard);
          isDone = true;
          break;
        } catch (error) {
          lastError = error;
          if (attempt === maxAttempts || !processor.isActive) break;
          const delayMs = backoffDelayMs(attempt, backoff);
          this.#emitRetry(processor.shardId, attempt, delayMs, error);
          await sleep(delayMs);
        }
      }
      if (isDone) {
        await this.#checkpoint(batch);
        continue;
      }
      if (!processor.isActive) {
        // Stopping or lease lost while retrying: leave the batch unhandled (it is read again later).
        batch.release();
        return;
      }
      const error = new RecordProcessingError(
        processor.shardId,
        maxAttempts,
        batch.records[0]?.sequenceNumber,
        lastError,
      );
      if (options.onPoisonBatch) {
        try {
          await options.onPoisonBatch(batch, error, shard);
          this.#emit({
            type: 'BATCH_DEAD_LETTERED',
            shardId: processor.shardId,
            firstSequenceNumber: batch.records[0]?.sequenceNumber,
            recordCount: batch.records.length,
            error,
          });
          await this.#checkpoint(batch);
          continue;
        } catch (deadLetterError) {
          this.#config.logger.error('The dead-letter handler failed; halting the shard', {
            shardId: processor.shardId,
            error: deadLetterError,
          });
        }
      }
      batch.release();
      processor.halt(error);
      return;
    }
  }

  async #checkpoint(batch: RecordBatch): Promise<void> {
    try {
      await batch.checkpoint();
    } catch (error) {
      this.#emit({ type: 'ERROR', shardId: batch.shardId, error: asError(error) });
    }
  }

  #emitRetry(shardId: string, attempt: number, delayMs: number, error: unknown): void {
    this.#emit({
      type: 'RETRY',
      operation: 'processBatch',
      shardId,
      attempt,
      delayMs,
      error: asError(error),
    });
  }

  #emit(event: ConsumerEvent): void {
    // Events of the run loop go through the worker's listeners so events$ sees them in order.
    this.#worker.emit(event);
  }

  #sessionFor(processor: ShardProcessor): ShardSession {
    let session = this.#sessions.get(processor);
    if (!session) {
      let isSubscribed = false;
      const records$ = new Observable<RecordBatch>((subscriber) => {
        if (isSubscribed || !processor.claim()) {
          subscriber.error(
            new InvalidStateError(
              `records$ of shard ${processor.shardId} can be consumed only once (one subscriber, not with run()).`,
            ),
          );
          return;
        }
        isSubscribed = true;
        let isClosed = false;
        let isComplete = false;
        void (async () => {
          try {
            for (;;) {
              const batch = await processor.next();
              if (isClosed) {
                // Pulled after the unsubscribe: nobody will handle it, so it must not hold the buffer.
                batch?.release();
                return;
              }
              if (!batch) break;
              subscriber.next(batch);
            }
            isComplete = true;
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        })();
        return () => {
          isClosed = true;
          // Nobody reads this shard any more: checkpoint what was handled and release the lease, so
          // that it is taken again (by this worker or another) instead of staying leased and unread.
          if (!isComplete) void processor.shutdown(this.#config.shutdownTimeoutMs);
        };
      });
      session = {
        ...shardInfoOf(processor),
        records$,
        completion: processor.completion,
      };
      this.#sessions.set(processor, session);
    }
    return session;
  }
}

function shardInfoOf(processor: ShardProcessor): ShardInfo {
  return {
    shardId: processor.shardId,
    parentShardIds: processor.parentShardIds,
    startingCheckpoint: processor.startingCheckpoint,
    pendingCheckpoint: processor.pendingCheckpoint,
    pendingCheckpointState: processor.pendingCheckpointState,
  };
}
