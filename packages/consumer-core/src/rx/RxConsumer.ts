import { Observable } from 'rxjs';
import type { ResolvedConsumerConfig } from '../config/resolveConsumerConfig.js';
import { InvalidStateError } from '../errors.js';
import type { ConsumerEvent, ConsumerState } from '../events.js';
import { type RunOptions, runShard } from '../run/runShard.js';
import type { RecordBatch, ShardCompletionReason, ShardInfo } from '../worker/RecordBatch.js';
import { type ShardConsumer, shardInfoOf } from '../worker/ShardConsumer.js';
import type { Worker } from '../worker/Worker.js';

/** One leased shard, as a stream of batches. */
export interface ShardSession extends ShardInfo {
  /**
   * The shard's batches, in order. Completes when the shard was read to its end, the lease was lost,
   * the consumer is stopping, or {@link ShardSession.fail} was called; `completion` then says which. Subscribe once: a batch is handed out
   * to one subscriber only. The reader stays at most `maxBufferedBatches`/`maxBufferedBytes` ahead of
   * the batches handled (checkpointed or released), so a slow subscriber slows the reader.
   */
  readonly records$: Observable<RecordBatch>;
  /**
   * Why the session ended: `SHARD_END` once `SHARD_END` is checkpointed (after your checkpoint of the
   * last record), `LEASE_LOST`, `SHUTDOWN` or `HANDED_OFF` once the lease was released, or `FAILED`
   * after {@link ShardSession.fail}.
   */
  readonly completion: Promise<ShardCompletionReason>;
  /**
   * Ends this shard's session because a record could not reach its destination, without checkpointing
   * anything further: `records$` completes (no more batches), and `checkpoint()`/`prepareCheckpoint()`
   * of batches already handed out reject with `LeaseLostError` and write nothing. The lease is then
   * released with a `SHARD_FAILED` event carrying `error`, and `completion` resolves `FAILED`; the next
   * owner — or this worker after `shardFailureBackoffMs`, not at once — redoes the shard from its last
   * written checkpoint. The failures in a row at one checkpoint are counted in the lease item (so the
   * count follows the shard from worker to worker); at `maxShardFailures` the shard is halted: the lease
   * item says so, every Shardline worker leaves it alone, a `SHARD_HALTED` event is emitted, the
   * `shardline.consumer.shard.halted` metric counts it and `shardline status` shows it, until `shardline skip`
   * (or `reset`) moves the checkpoint. A checkpoint written past that position starts the count again.
   *
   * Returns at once (the release happens in the background; await `completion` to know it is done).
   * Calling it again, or after the session ended, does nothing.
   */
  fail(error: Error): void;
}

/** A Kinesis consumer: one worker of an application. Made by `createConsumer`. */
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
   * Where `/healthz` and `/readyz` listen (the option `health`), from `start()` until `stop()` has
   * finished; `undefined` otherwise or when the option is off. With `health.port: 0` it gives the port
   * picked.
   */
  readonly healthAddress: { readonly host: string; readonly port: number } | undefined;
  /**
   * Creates the lease table if missing, syncs shards, starts taking leases; first opens the health
   * endpoints when the option `health` is set. Subscribe to `shards$` first (or use `run()`).
   * @throws the listen error (`EADDRINUSE`) of the health endpoints, `LeaseTableSchemaError`, `DependencyError`, `InvalidStateError` (after stop).
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

/** The RxJS surface over a {@link Worker}: `shards$`, `events$`, and `run()` (see `run/runShard.ts`). */
export class RxConsumer implements Consumer {
  readonly #worker: Worker;
  readonly #config: ResolvedConsumerConfig;
  readonly #sessions = new WeakMap<ShardConsumer, ShardSession>();
  #isRunCalled = false;
  readonly shards$: Observable<ShardSession>;
  readonly events$: Observable<ConsumerEvent>;

  constructor(worker: Worker, config: ResolvedConsumerConfig) {
    this.#worker = worker;
    this.#config = config;
    this.shards$ = new Observable<ShardSession>((subscriber) =>
      worker.onSession((shardConsumer) => subscriber.next(this.#sessionFor(shardConsumer))),
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

  get healthAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#worker.healthAddress;
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
    const context = { logger: this.#config.logger, emit: (event: ConsumerEvent) => this.#worker.emit(event) };
    this.#worker.onSession((shardConsumer) => void runShard(shardConsumer, options, context));
    await this.#worker.start();
  }

  #sessionFor(shardConsumer: ShardConsumer): ShardSession {
    let session = this.#sessions.get(shardConsumer);
    if (!session) {
      let isSubscribed = false;
      const records$ = new Observable<RecordBatch>((subscriber) => {
        if (isSubscribed || !shardConsumer.claim()) {
          subscriber.error(
            new InvalidStateError(
              `records$ of shard ${shardConsumer.shardId} can be consumed only once (one subscriber, not with run()).`,
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
              const batch = await shardConsumer.next();
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
          if (!isComplete) void shardConsumer.shutdown(this.#config.shutdownTimeoutMs);
        };
      });
      session = {
        ...shardInfoOf(shardConsumer),
        records$,
        completion: shardConsumer.completion,
        fail: (error: Error) => shardConsumer.fail(error),
      };
      this.#sessions.set(shardConsumer, session);
    }
    return session;
  }
}
