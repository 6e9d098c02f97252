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

/** An instrument's name and its OpenTelemetry options. */
interface InstrumentSpec {
  readonly name: string;
  readonly description: string;
  readonly unit?: string;
}

/** The counters, in the order they are created. */
const COUNTERS = {
  records: {
    name: ConsumerMetricName.RecordsProcessed,
    description: 'Records handled by the application (checkpointed or released)',
    unit: '{record}',
  },
  bytes: {
    name: ConsumerMetricName.BytesProcessed,
    description: 'Payload bytes of the records handled',
    unit: 'By',
  },
  renewFailures: {
    name: ConsumerMetricName.RenewFailures,
    description: 'Failed lease renewal attempts (retried within the failover window)',
    unit: '{attempt}',
  },
  moves: {
    name: ConsumerMetricName.LeaseMoves,
    description: 'Leases taken, stolen, handed off, released or lost by this worker',
    unit: '{lease}',
  },
  shardFailures: {
    name: ConsumerMetricName.ShardFailures,
    description: 'Shard sessions that failed and were released to be redone from the last checkpoint',
    unit: '{session}',
  },
  shardsHalted: {
    name: ConsumerMetricName.ShardsHalted,
    description: 'Shards halted after failing too many times in a row at one checkpoint',
    unit: '{shard}',
  },
  subscriptions: {
    name: ConsumerMetricName.Subscriptions,
    description: 'Enhanced fan-out subscriptions made (SubscribeToShard), renewals included',
  },
  resubscriptions: {
    name: ConsumerMetricName.Resubscriptions,
    description: 'Enhanced fan-out subscriptions made again (5-minute renewal, errors, takeovers)',
  },
  checkpointWriteFailures: {
    name: ConsumerMetricName.CheckpointWriteFailures,
    description: 'Failed checkpoint write attempts (retried, or given up: not in the table)',
    unit: '{attempt}',
  },
} as const satisfies Record<string, InstrumentSpec>;

/** The observable gauges, read in one batch callback. */
const GAUGES = {
  held: { name: ConsumerMetricName.LeasesHeld, description: 'Leases this worker holds', unit: '{lease}' },
  behind: {
    name: ConsumerMetricName.MillisBehindLatest,
    description: 'MillisBehindLatest of the last batch handled',
    unit: 'ms',
  },
  age: {
    name: ConsumerMetricName.CheckpointAge,
    description: 'Time since the checkpoint was last written',
    unit: 'ms',
  },
} as const satisfies Record<string, InstrumentSpec>;

/** One instrument per spec, created in the specs' order, under the same keys. */
function createInstruments<K extends string, I>(
  specs: Record<K, InstrumentSpec>,
  create: (name: string, options: { description: string; unit?: string }) => I,
): Record<K, I> {
  const instruments = {} as Record<K, I>;
  for (const key of Object.keys(specs) as K[]) {
    const { name, ...options } = specs[key];
    instruments[key] = create(name, options);
  }
  return instruments;
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
  readonly #counters: Record<keyof typeof COUNTERS, Counter>;
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
    this.#counters = createInstruments(COUNTERS, (name, instrument) => meter.createCounter(name, instrument));
    const { held, behind, age } = createInstruments(GAUGES, (name, instrument) =>
      meter.createObservableGauge(name, instrument),
    );
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
        this.#counters.records.add(event.recordCount, attributes);
        this.#counters.bytes.add(event.byteCount, attributes);
        const state = this.#shards.get(event.shardId);
        if (state) state.millisBehindLatest = event.millisBehindLatest;
        break;
      }
      case 'SUBSCRIBED': {
        const attributes = { ...this.#base, 'shardline.shard.id': event.shardId };
        this.#counters.subscriptions.add(1, attributes);
        if (event.isRenewal) this.#counters.resubscriptions.add(1, attributes);
        break;
      }
      case 'CHECKPOINT_WRITTEN': {
        const state = this.#shards.get(event.shardId);
        if (state) state.checkpointWrittenAtMs = this.#clock.nowMs();
        break;
      }
      case 'RETRY':
        if (event.operation === 'renew') this.#counters.renewFailures.add(1, this.#base);
        if (event.operation === 'checkpoint' && event.shardId !== undefined)
          this.#checkpointFailure(event.shardId, 'retried');
        break;
      case 'CHECKPOINT_FAILED':
        this.#checkpointFailure(event.shardId, 'gave_up');
        break;
      case 'SHARD_FAILED':
        this.#counters.shardFailures.add(1, { ...this.#base, 'shardline.shard.id': event.shardId });
        break;
      case 'SHARD_HALTED':
        this.#counters.shardsHalted.add(1, { ...this.#base, 'shardline.shard.id': event.shardId });
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
    this.#counters.checkpointWriteFailures.add(1, {
      ...this.#base,
      'shardline.shard.id': shardId,
      'shardline.checkpoint.outcome': outcome,
    });
  }

  #move(move: string): void {
    this.#counters.moves.add(1, { ...this.#base, 'shardline.lease.move': move });
  }
}
