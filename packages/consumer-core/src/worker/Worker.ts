import { retry } from '@shardline/common';
import {
  compareExtendedSequenceNumbers,
  type ExtendedSequenceNumber,
} from '../checkpoint/ExtendedSequenceNumber.js';
import type { ResolvedConsumerConfig } from '../config/resolveConsumerConfig.js';
import { InvalidStateError } from '../errors.js';
import { asError, type ConsumerEvent, type ConsumerEventListener, type ConsumerState } from '../events.js';
import { HealthServer } from '../health/HealthServer.js';
import {
  evaluateLiveness,
  evaluateReadiness,
  type HealthSnapshot,
  type ShardProgress,
} from '../health/healthStatus.js';
import { Loop } from '../internal/Loop.js';
import type { Lease } from '../leases/Lease.js';
import { LeaseCoordinator } from '../leases/LeaseCoordinator.js';
import type { LeaseStore } from '../leases/LeaseStore.js';
import { isLeaseFinished } from '../leases/leaseTaking.js';
import { isLeaseHalted } from '../leases/shardFailure.js';
import { ConsumerMetrics } from '../metrics/ConsumerMetrics.js';
import type { ChildShard, ShardReader } from '../retrieval/ShardReader.js';
import { guardStreamIdentity } from '../shard-sync/guardStreamIdentity.js';
import type { ShardLister } from '../shard-sync/ShardLister.js';
import { ShardSyncer } from '../shard-sync/ShardSyncer.js';
import { eligibleLeases } from '../shard-sync/shardLineage.js';
import { ShardConsumer } from './ShardConsumer.js';

/** The ports a worker runs on (the AWS adapters in production, in-memory fakes in tests). */
export interface WorkerPorts {
  readonly leaseStore: LeaseStore;
  /** The coordinator table (leader and heartbeat items); required with `leaseAssignment: 'leader'`. */
  readonly coordinatorStore?: LeaseStore;
  readonly shardReader: ShardReader;
  readonly shardLister: ShardLister;
}

/** A shard whose session failed here, as the health check remembers it until this worker takes it again. */
interface FailedProgress {
  readonly checkpoint: ExtendedSequenceNumber;
  readonly progressAtMs: number;
  readonly failedSessions: number;
  readonly millisBehindLatest: number | undefined;
  /** Listed by the health check until then (this worker should have taken it again by that time). */
  readonly listUntilMs: number;
}

/**
 * Upper bound of steals per take round; the coordinator steals half of what is missing per round (at
 * least one), and the cool-down keeps a lease that just moved from moving again.
 */
const MAX_LEASES_TO_STEAL_AT_ONCE = Number.POSITIVE_INFINITY;

/** Longest wait before this worker takes a shard again whose session it failed. */
const MAX_SHARD_FAILURE_BACKOFF_MS = 600_000;

/**
 * One worker of an application: takes and renews leases, syncs shards, runs one {@link ShardConsumer}
 * per held shard, and stops in order. Plain async code; `rx/` puts the RxJS surface on it.
 */
export class Worker {
  readonly #config: ResolvedConsumerConfig;
  readonly #ports: WorkerPorts;
  readonly #coordinator: LeaseCoordinator;
  readonly #syncer: ShardSyncer;
  readonly #syncLoop: Loop;
  readonly #metrics: ConsumerMetrics;
  readonly #shardConsumers = new Map<string, ShardConsumer>();
  /** Shards whose session failed here: not taken again by this worker before this time (monotonic ms). */
  readonly #failedUntilMs = new Map<string, number>();
  /**
   * Shards whose session failed here: the checkpoint it failed at and when a batch was last handled, so
   * that the next session here at the same checkpoint keeps the stall clock going (health).
   */
  readonly #failedProgress = new Map<string, FailedProgress>();
  readonly #listeners = new Set<ConsumerEventListener>();
  readonly #sessionListeners = new Set<(shardConsumer: ShardConsumer) => void>();
  #state: ConsumerState = 'idle';
  /** Aborted by stop(): a start still creating the table or syncing gives up at once. */
  readonly #startController = new AbortController();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #healthServer: HealthServer | undefined;

  constructor(config: ResolvedConsumerConfig, ports: WorkerPorts) {
    this.#config = config;
    this.#ports = ports;
    const { health } = config;
    this.#healthServer = health
      ? new HealthServer({
          host: health.host,
          port: health.port,
          logger: config.logger,
          liveness: (eventLoop) => evaluateLiveness(this.healthSnapshot(eventLoop), health),
          readiness: (eventLoop) => evaluateReadiness(this.healthSnapshot(eventLoop), health),
        })
      : undefined;
    this.#metrics = new ConsumerMetrics({
      meterProvider: config.meterProvider,
      applicationName: config.applicationName,
      streamName: config.streamLabel,
      workerId: config.workerId,
      clock: config.clock,
    });
    const onEvent = (event: ConsumerEvent) => this.#emit(event);
    this.#syncer = new ShardSyncer({
      lister: ports.shardLister,
      store: ports.leaseStore,
      initialPosition: config.initialPosition,
      onEvent,
      onShardsListed: (shards) => this.#coordinator.noteShards(shards),
    });
    const isLeaderMode = config.leaseAssignment === 'leader';
    if (isLeaderMode && !ports.coordinatorStore) {
      throw new InvalidStateError("leaseAssignment: 'leader' needs a coordinator store.");
    }
    this.#coordinator = new LeaseCoordinator({
      store: ports.leaseStore,
      workerId: config.workerId,
      failoverTimeMs: config.failoverTimeMs,
      renewIntervalMs: config.renewIntervalMs,
      leaseTakeIntervalMs: config.leaseTakeIntervalMs,
      maxLeasesPerWorker: config.maxLeasesPerWorker,
      maxLeasesToStealAtOnce: MAX_LEASES_TO_STEAL_AT_ONCE,
      stealCooldownMs: config.failoverTimeMs,
      clock: config.clock,
      logger: config.logger,
      onEvent,
      maxShardFailures: config.maxShardFailures,
      // A halted shard is left alone by every worker; one that failed here waits out its backoff.
      eligibility: (leases) => {
        const isEligible = eligibleLeases(leases);
        const nowMs = config.clock.nowMs();
        return (lease) =>
          isEligible(lease) && !isLeaseHalted(lease) && !this.#isBackingOff(lease.leaseKey, nowMs);
      },
      cleanup: {
        cleanupLeasesUponShardCompletion: config.cleanupLeasesUponShardCompletion,
        cleanupGarbageLeases: config.cleanupGarbageLeases,
        garbageLeaseGracePeriodMs: config.garbageLeaseGracePeriodMs,
        leaseCleanupIntervalMs: config.leaseCleanupIntervalMs,
      },
      ...(isLeaderMode && ports.coordinatorStore
        ? {
            leaderAssignment: {
              coordinatorStore: ports.coordinatorStore,
              // The leader assigns from the table alone; this worker's own failure backoff is applied
              // when it is assigned a lease (it leaves the lease to expire and move on).
              eligibility: (leases: readonly Lease[]) => {
                const isEligible = eligibleLeases(leases);
                return (lease: Lease) => isEligible(lease) && !isLeaseHalted(lease);
              },
              accepts: (lease: Lease) => !this.#isBackingOff(lease.leaseKey, config.clock.nowMs()),
              // Only the leader syncs shards: at once when elected, then every shardSyncIntervalMs.
              onLeadershipChanged: (isLeader: boolean) => {
                if (isLeader) this.#syncLoop.wake();
              },
            },
          }
        : {}),
      onLeaseAcquired: (lease) => this.#startShardConsumer(lease),
      onLeaseLost: (leaseKey) => this.#shardConsumers.get(leaseKey)?.loseLease(),
      onHandoffRequested: (leaseKey) => {
        const shardConsumer = this.#shardConsumers.get(leaseKey);
        if (shardConsumer) void shardConsumer.handOff(config.shutdownTimeoutMs);
        else void this.#coordinator.release(leaseKey);
      },
    });
    this.#syncLoop = new Loop(
      config.shardSyncIntervalMs,
      async () => {
        if (isLeaderMode && !this.#coordinator.isLeader) return;
        const created = await this.#syncer.sync(this.#syncLoop.signal);
        if (created > 0) this.#coordinator.requestTakeRound();
      },
      (error) => {
        config.logger.warn('Shard sync failed', { error });
        this.#emit({ type: 'ERROR', shardId: undefined, error: asError(error) });
      },
    );
    config.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** The lifecycle state. */
  get state(): ConsumerState {
    return this.#state;
  }

  /** This worker's id in the lease table. */
  get workerId(): string {
    return this.#config.workerId;
  }

  /** Where the health endpoints listen (after `start()` began, until `stop()` ended). */
  get healthAddress(): { readonly host: string; readonly port: number } | undefined {
    return this.#healthServer?.address;
  }

  /** What the health endpoints judge, now. */
  healthSnapshot(eventLoop: HealthSnapshot['eventLoop']): HealthSnapshot {
    const nowMs = this.#config.clock.nowMs();
    const { lastRenewedAtMs, failingSinceMs } = this.#coordinator.renewalStatus;
    return {
      workerId: this.#config.workerId,
      state: this.#state,
      eventLoop,
      leaseRenewal: {
        heldLeaseCount: this.#coordinator.heldLeaseKeys().length,
        lastRenewalAgoMs: lastRenewedAtMs === undefined ? undefined : Math.round(nowMs - lastRenewedAtMs),
        failingForMs: failingSinceMs === undefined ? undefined : Math.round(nowMs - failingSinceMs),
      },
      shards: [...this.#shardConsumers.values()]
        .filter((shardConsumer) => shardConsumer.isActive)
        .map((shardConsumer) => shardConsumer.progress(nowMs))
        .concat(this.#failedShardsBetweenSessions(nowMs))
        .map((progress) => ({ ...progress, sinceProgressMs: Math.round(progress.sinceProgressMs) })),
    };
  }

  /** Shards whose session failed here and that this worker should take again soon (between sessions). */
  #failedShardsBetweenSessions(nowMs: number): ShardProgress[] {
    const shards: ShardProgress[] = [];
    for (const [shardId, failed] of this.#failedProgress) {
      if (nowMs >= failed.listUntilMs) {
        // Not taken again here in time (another worker has it, or it was halted): its own business now.
        this.#failedProgress.delete(shardId);
      } else if (!this.#shardConsumers.get(shardId)?.isActive) {
        shards.push({
          shardId,
          bufferedBatchCount: 0,
          millisBehindLatest: failed.millisBehindLatest,
          sinceProgressMs: Math.max(0, nowMs - failed.progressAtMs),
          failedSessions: failed.failedSessions,
        });
      }
    }
    return shards;
  }

  /** Shards being processed now. */
  get activeShardIds(): string[] {
    return [...this.#shardConsumers.keys()];
  }

  /** Subscribes to events. @returns an unsubscribe function. */
  onEvent(listener: ConsumerEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Subscribes to new shard sessions (and receives the ones already running). @returns an unsubscribe function. */
  onSession(listener: (shardConsumer: ShardConsumer) => void): () => void {
    this.#sessionListeners.add(listener);
    for (const shardConsumer of this.#shardConsumers.values())
      if (shardConsumer.isActive) listener(shardConsumer);
    return () => this.#sessionListeners.delete(listener);
  }

  /**
   * Creates the lease table if needed, syncs shards, and starts taking leases. Resolves once the first
   * sync is done. Calling it again returns the same promise.
   *
   * @throws `LeaseTableSchemaError`, `StreamIdentityMismatchError`, `StreamConsumerLimitError`, `DependencyError` (the worker is then stopped).
   * @throws {@link InvalidStateError} after `stop()`.
   */
  start(): Promise<void> {
    if (this.#stopping)
      return Promise.reject(new InvalidStateError('The consumer was stopped; create a new one.'));
    if (this.#config.signal?.aborted) {
      void this.stop();
      return Promise.reject(new InvalidStateError('The consumer’s signal was aborted before start().'));
    }
    this.#starting ??= (async () => {
      this.#setState('starting');
      const signal = this.#config.signal
        ? AbortSignal.any([this.#config.signal, this.#startController.signal])
        : this.#startController.signal;
      try {
        // First: a port already taken fails start() before anything is written to the table.
        await this.#healthServer?.listen();
        for (const store of [this.#ports.leaseStore, this.#ports.coordinatorStore]) {
          if (!store || (store === this.#ports.coordinatorStore && this.#config.leaseAssignment !== 'leader'))
            continue;
          await retry(() => store.initialize(signal), {
            maxAttempts: 10, // a throttled table at start-up is retried, not fatal
            initialDelayMs: 200,
            maxDelayMs: 5_000,
            signal,
          });
        }
        const stream = await retry(
          () =>
            guardStreamIdentity({
              lister: this.#ports.shardLister,
              store: this.#ports.leaseStore,
              tableName: this.#config.leaseTableName,
              acceptStreamIdentityChange: this.#config.acceptStreamIdentityChange,
              logger: this.#config.logger,
              signal,
            }),
          { maxAttempts: 10, initialDelayMs: 200, maxDelayMs: 5_000, signal },
        );
        if (stream) this.#syncer.stampLeasesWith(stream);
        // Once per worker start, not per shard: the fan-out reader registers (or finds) its consumer.
        await this.#ports.shardReader.start?.(signal);
        // Leader-based assignment: the elected leader syncs (all workers at once would each write
        // every missing lease).
        if (this.#config.leaseAssignment !== 'leader') {
          await retry(() => this.#syncer.sync(signal), {
            maxAttempts: 10, // a throttled table at start-up is retried, not fatal
            initialDelayMs: 200,
            maxDelayMs: 5_000,
            signal,
          });
        }
      } catch (error) {
        await this.#healthServer?.close();
        this.#metrics.close();
        this.#setState('stopped');
        this.#stopping ??= Promise.resolve();
        throw error;
      }
      if (this.#stopping) return;
      this.#coordinator.start();
      this.#syncLoop.start(true);
      this.#setState('running');
    })();
    return this.#starting;
  }

  /**
   * Stops in order: stop taking leases and syncing, stop fetching, let handed-out batches finish (up to
   * `shutdownTimeoutMs`), write final checkpoints, release every lease, stop renewing. Memoized; each
   * step reports its failure and the next still runs.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#startController.abort(new InvalidStateError('stop() was called while starting.'));
      await this.#starting?.catch(() => undefined);
      this.#setState('stopping');
      const step = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (error) {
          this.#config.logger.warn(`Stop step failed: ${name}`, { error });
          this.#emit({ type: 'ERROR', shardId: undefined, error: asError(error) });
        }
      };
      await step('stop taking leases', () => this.#coordinator.stopTaking());
      await step('stop shard sync', () => this.#syncLoop.stop());
      await step('drain shards and release leases', () =>
        Promise.all(
          [...this.#shardConsumers.values()].map((p) => p.shutdown(this.#config.shutdownTimeoutMs)),
        ),
      );
      // Leases still being handed to this worker are released as they arrive (not left to expire).
      await step('settle hand-offs to this worker', () =>
        this.#coordinator.settleHandoffs(
          Math.min(this.#config.shutdownTimeoutMs, this.#config.failoverTimeMs),
        ),
      );
      await step('drain shards handed over meanwhile', () =>
        Promise.all(
          [...this.#shardConsumers.values()].map((p) => p.shutdown(this.#config.shutdownTimeoutMs)),
        ),
      );
      await step('tell peers to take the released leases', () => this.#coordinator.hintPeers());
      await step('stop lease renewal', () => this.#coordinator.stop());
      // Last: /readyz answers 503 (stopping) while the shards drain.
      await step('close the health endpoints', async () => this.#healthServer?.close());
      this.#metrics.close();
      this.#setState('stopped');
    })();
    return this.#stopping;
  }

  #isBackingOff(leaseKey: string, nowMs: number): boolean {
    const untilMs = this.#failedUntilMs.get(leaseKey);
    if (untilMs === undefined) return false;
    if (nowMs < untilMs) return true;
    this.#failedUntilMs.delete(leaseKey);
    return false;
  }

  #startShardConsumer(lease: Lease): void {
    if (this.#stopping) {
      void this.#coordinator.release(lease.leaseKey);
      return;
    }
    const previous = this.#shardConsumers.get(lease.leaseKey);
    if (previous) {
      // Taken again while the previous session is still finishing its release: start once it is done,
      // from the lease as taken (its checkpoint includes the previous session's final one).
      void previous.completion.then(() => {
        if (!this.#shardConsumers.has(lease.leaseKey) && this.#coordinator.isHeld(lease.leaseKey)) {
          this.#startShardConsumer(this.#coordinator.heldLease(lease.leaseKey) ?? lease);
        }
      });
      return;
    }
    if (isLeaseFinished(lease) || isLeaseHalted(lease)) {
      void this.#coordinator.release(lease.leaseKey);
      return;
    }
    const config = this.#config;
    const failed = this.#failedProgress.get(lease.leaseKey);
    this.#failedProgress.delete(lease.leaseKey);
    const isSameStall = failed && compareExtendedSequenceNumbers(failed.checkpoint, lease.checkpoint) === 0;
    const shardConsumer = new ShardConsumer(lease, {
      ...(isSameStall
        ? { progressSinceMs: failed.progressAtMs, failedSessionsBefore: failed.failedSessions }
        : {}),
      reader: this.#ports.shardReader,
      clock: config.clock,
      logger: config.logger,
      onEvent: (event) => this.#emit(event),
      initialPosition: config.initialPosition,
      maxBufferedBatches: config.maxBufferedBatches,
      maxBufferedBytes: config.maxBufferedBytes,
      checkpointIntervalMs: config.checkpointIntervalMs,
      checkpointRetryBudgetMs: config.failoverTimeMs,
      leaseHandle: this.#coordinator.leaseHandle(lease.leaseKey),
      prepareChildren: (shardId, reported) => this.#prepareChildren(shardId, reported),
      onShardFinished: () => {
        this.#coordinator.requestTakeRound();
      },
      onFailed: (shardId, failureCount) => {
        const delayMs = Math.min(
          config.shardFailureBackoffMs * 2 ** Math.max(0, (failureCount ?? 1) - 1),
          MAX_SHARD_FAILURE_BACKOFF_MS,
        );
        const nowMs = config.clock.nowMs();
        this.#failedUntilMs.set(shardId, nowMs + delayMs);
        this.#failedProgress.set(shardId, {
          checkpoint: shardConsumer.writtenCheckpoint,
          progressAtMs: shardConsumer.lastProgressAtMs,
          failedSessions: shardConsumer.failedSessionsBefore + 1,
          millisBehindLatest: shardConsumer.millisBehindLatest,
          listUntilMs: nowMs + delayMs + config.leaseTakeIntervalMs + config.failoverTimeMs,
        });
      },
      onCompleted: (shardId) => {
        // The coordinator already dropped the lease (released, lost or expired); forgetting it here
        // could drop a new take of the same lease.
        if (this.#shardConsumers.get(shardId) === shardConsumer) this.#shardConsumers.delete(shardId);
      },
    });
    this.#shardConsumers.set(lease.leaseKey, shardConsumer);
    shardConsumer.start();
    for (const listener of this.#sessionListeners) listener(shardConsumer);
  }

  async #prepareChildren(shardId: string, reported: readonly ChildShard[] | undefined): Promise<string[]> {
    if (reported && reported.length > 0) {
      await this.#syncer.createChildLeases(reported);
      return reported.map((child) => child.shardId).sort();
    }
    // The service did not report children (kinesalite, older APIs): list the stream instead.
    const shards = await this.#ports.shardLister.listShards();
    await this.#syncer.sync();
    return shards
      .filter((shard) => shard.parentShardIds.includes(shardId))
      .map((shard) => shard.shardId)
      .sort();
  }

  #setState(state: ConsumerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit({ type: 'STATE_CHANGED', state });
  }

  /** Sends an event to every listener (the run loop reports through it too). */
  emit(event: ConsumerEvent): void {
    this.#emit(event);
  }

  #emit(event: ConsumerEvent): void {
    // The situations an operator must see even without an events$ subscriber.
    if (event.type === 'RECORDS_TRIMMED') {
      this.#config.logger.warn(
        'Records after the checkpoint were already trimmed by the stream’s retention',
        {
          shardId: event.shardId,
          checkpoint: event.checkpoint,
          resumedAt: event.resumedAt,
        },
      );
    } else if (event.type === 'RECORD_OUTSIDE_SHARD_RANGE') {
      this.#config.logger.warn('A KPL sub-record hashes outside its shard’s range (delivered anyway)', {
        shardId: event.shardId,
        sequenceNumber: event.sequenceNumber,
        subSequenceNumber: event.subSequenceNumber,
        partitionKey: event.partitionKey,
      });
    }
    this.#metrics.onEvent(event);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#config.logger.warn('An event listener threw', { error });
      }
    }
  }
}
