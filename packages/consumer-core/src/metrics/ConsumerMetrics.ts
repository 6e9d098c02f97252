import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
} from '@opentelemetry/api';
import type { ConsumerEvent } from '../events.js';
import type { Clock } from '../internal/clock.js';

/** The instrument names this library records (OpenTelemetry metrics API). */
export const ConsumerMetricName = {
  /** Gauge: leases this worker holds. Attributes: application, stream, worker. */
  LeasesHeld: 'shardline.consumer.leases.held',
  /** Counter: records handled (checkpointed or released by the application). Per shard. */
  RecordsProcessed: 'shardline.consumer.records.processed',
  /** Counter: bytes of the records handled, as Kinesis counts them (data plus partition key). Per shard. */
  BytesProcessed: 'shardline.consumer.bytes.processed',
  /** Gauge (ms): `MillisBehindLatest` of the shard's last handled batch. Per shard. */
  MillisBehindLatest: 'shardline.consumer.millis_behind_latest',
  /** Gauge (ms): time since the shard's checkpoint was last written (or since the session started). Per shard. */
  CheckpointAge: 'shardline.consumer.checkpoint.age',
  /** Counter: failed lease renewal attempts (each retried within the failover window). */
  RenewFailures: 'shardline.consumer.lease.renew_failures',
  /** Counter: lease moves, by `shardline.lease.move`: taken, stolen, handed_off, released, lost. */
  LeaseMoves: 'shardline.consumer.lease.moves',
  /** Counter: failed shard sessions (`SHARD_FAILED`: released to be redone). Per shard. */
  ShardFailures: 'shardline.consumer.shard.failures',
  /** Counter: shards halted after `maxShardFailures` failures in a row (`SHARD_HALTED`). Per shard. */
  ShardsHalted: 'shardline.consumer.shard.halted',
  /**
   * Counter: failed checkpoint write attempts, by `shardline.checkpoint.outcome`: `retried` (tried again
   * after a backoff) or `gave_up` (`CHECKPOINT_FAILED`: not in the table). Per shard.
   */
  CheckpointWriteFailures: 'shardline.consumer.checkpoint.write_failures',
  /** Counter: enhanced fan-out subscriptions made (`SUBSCRIBED`), renewals included. Per shard. */
  Subscriptions: 'shardline.consumer.fanout.subscriptions',
  /**
   * Counter: enhanced fan-out re-subscriptions (`SUBSCRIBED` with `isRenewal`): the 5-minute renewal,
   * and every subscription made again after an error, a takeover or an idle deadline. Per shard.
   */
  Resubscriptions: 'shardline.consumer.fanout.resubscriptions',
} as const;

/** Options of {@link ConsumerMetrics}. */
export interface ConsumerMetricsOptions {
  /** @defaultValue the global provider (a no-op unless an OpenTelemetry SDK is installed) */
  readonly meterProvider?: MeterProvider;
  readonly applicationName: string;
  readonly streamName: string;
  readonly workerId: string;
  readonly clock: Clock;
}

interface ShardState {
  millisBehindLatest: number | undefined;
  checkpointWrittenAtMs: number;
}

/**
 * Turns the consumer's events into OpenTelemetry metrics: per-worker and per-shard gauges and counters.
 * Everything it records is derived from `events$`, so an application without OpenTelemetry can compute
 * the same figures from the events.
 */
export class ConsumerMetrics {
  readonly #base: Attributes;
  readonly #clock: Clock;
  readonly #shards = new Map<string, ShardState>();
  readonly #records: Counter;
  readonly #bytes: Counter;
  readonly #renewFailures: Counter;
  readonly #moves: Counter;
  readonly #shardFailures: Counter;
  readonly #shardsHalted: Counter;
  readonly #checkpointWriteFailures: Counter;
  readonly #subscriptions: Counter;
  readonly #resubscriptions: Counter;
  readonly #observables: ObservableGauge[];
  readonly #callback: BatchObservableCallback;
  readonly #meter;

  constructor(options: ConsumerMetricsOptions) {
    const provider = options.meterProvider ?? metrics.getMeterProvider();
    const meter = provider.getMeter('@shardline/consumer-core');
    this.#meter = meter;
    this.#clock = options.clock;
    this.#base = {
      'shardline.application': options.applicationName,
      'shardline.stream': options.streamName,
      'shardline.worker.id': options.workerId,
    };
    this.#records = meter.createCounter(ConsumerMetricName.RecordsProcessed, {
      description: 'Records handled by the application (checkpointed or released)',
      unit: '{record}',
    });
    this.#bytes = meter.createCounter(ConsumerMetricName.BytesProcessed, {
      description: 'Payload bytes of the records handled',
      unit: 'By',
    });
    this.#renewFailures = meter.createCounter(ConsumerMetricName.RenewFailures, {
      description: 'Failed lease renewal attempts (retried within the failover window)',
      unit: '{attempt}',
    });
    this.#moves = meter.createCounter(ConsumerMetricName.LeaseMoves, {
      description: 'Leases taken, stolen, handed off, released or lost by this worker',
      unit: '{lease}',
    });
    this.#shardFailures = meter.createCounter(ConsumerMetricName.ShardFailures, {
      description: 'Shard sessions that failed and were released to be redone from the last checkpoint',
      unit: '{session}',
    });
    this.#shardsHalted = meter.createCounter(ConsumerMetricName.ShardsHalted, {
      description: 'Shards halted after failing too many times in a row at one checkpoint',
      unit: '{shard}',
    });
    this.#subscriptions = meter.createCounter(ConsumerMetricName.Subscriptions, {
      description: 'Enhanced fan-out subscriptions made (SubscribeToShard), renewals included',
    });
    this.#resubscriptions = meter.createCounter(ConsumerMetricName.Resubscriptions, {
      description: 'Enhanced fan-out subscriptions made again (5-minute renewal, errors, takeovers)',
    });
    this.#checkpointWriteFailures = meter.createCounter(ConsumerMetricName.CheckpointWriteFailures, {
      description: 'Failed checkpoint write attempts (retried, or given up: not in the table)',
      unit: '{attempt}',
    });
    const held = meter.createObservableGauge(ConsumerMetricName.LeasesHeld, {
      description: 'Leases this worker holds',
      unit: '{lease}',
    });
    const behind = meter.createObservableGauge(ConsumerMetricName.MillisBehindLatest, {
      description: 'MillisBehindLatest of the last batch handled',
      unit: 'ms',
    });
    const age = meter.createObservableGauge(ConsumerMetricName.CheckpointAge, {
      description: 'Time since the checkpoint was last written',
      unit: 'ms',
    });
    this.#observables = [held, behind, age];
    this.#callback = (result) => {
      result.observe(held, this.#shards.size, this.#base);
      const nowMs = this.#clock.nowMs();
      for (const [shardId, state] of this.#shards) {
        const attributes = { ...this.#base, 'shardline.shard.id': shardId };
        if (state.millisBehindLatest !== undefined)
          result.observe(behind, state.millisBehindLatest, attributes);
        result.observe(age, Math.max(0, nowMs - state.checkpointWrittenAtMs), attributes);
      }
    };
    meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  /** Records one event. */
  onEvent(event: ConsumerEvent): void {
    switch (event.type) {
      case 'SHARD_STARTED':
        this.#shards.set(event.shardId, {
          millisBehindLatest: undefined,
          checkpointWrittenAtMs: this.#clock.nowMs(),
        });
        break;
      case 'BATCH_PROCESSED': {
        const attributes = { ...this.#base, 'shardline.shard.id': event.shardId };
        this.#records.add(event.recordCount, attributes);
        this.#bytes.add(event.byteCount, attributes);
        const state = this.#shards.get(event.shardId);
        if (state) state.millisBehindLatest = event.millisBehindLatest;
        break;
      }
      case 'SUBSCRIBED': {
        const attributes = { ...this.#base, 'shardline.shard.id': event.shardId };
        this.#subscriptions.add(1, attributes);
        if (event.isRenewal) this.#resubscriptions.add(1, attributes);
        break;
      }
      case 'CHECKPOINT_WRITTEN': {
        const state = this.#shards.get(event.shardId);
        if (state) state.checkpointWrittenAtMs = this.#clock.nowMs();
        break;
      }
      case 'RETRY':
        if (event.operation === 'renew') this.#renewFailures.add(1, this.#base);
        if (event.operation === 'checkpoint' && event.shardId !== undefined)
          this.#checkpointFailure(event.shardId, 'retried');
        break;
      case 'CHECKPOINT_FAILED':
        this.#checkpointFailure(event.shardId, 'gave_up');
        break;
      case 'SHARD_FAILED':
        this.#shardFailures.add(1, { ...this.#base, 'shardline.shard.id': event.shardId });
        break;
      case 'SHARD_HALTED':
        this.#shardsHalted.add(1, { ...this.#base, 'shardline.shard.id': event.shardId });
        break;
      case 'LEASE_TAKEN':
        this.#move(event.stolen ? 'stolen' : 'taken');
        break;
      case 'LEASE_HANDED_OFF':
        this.#move('handed_off');
        this.#shards.delete(event.leaseKey);
        break;
      case 'LEASE_RELEASED':
        this.#move('released');
        this.#shards.delete(event.leaseKey);
        break;
      case 'LEASE_LOST':
        this.#move('lost');
        this.#shards.delete(event.leaseKey);
        break;
    }
  }

  /** Stops observing (the worker stopped). */
  close(): void {
    this.#shards.clear();
    this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }

  #checkpointFailure(shardId: string, outcome: 'retried' | 'gave_up'): void {
    this.#checkpointWriteFailures.add(1, {
      ...this.#base,
      'shardline.shard.id': shardId,
      'shardline.checkpoint.outcome': outcome,
    });
  }

  #move(move: string): void {
    this.#moves.add(1, { ...this.#base, 'shardline.lease.move': move });
  }
}
