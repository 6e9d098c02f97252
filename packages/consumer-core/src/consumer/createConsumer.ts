import { createMetricsExporter, type MetricsExporter } from '@shardline/metrics';
import {
  type ConsumerOptions,
  type ResolvedConsumerConfig,
  resolveConsumerConfig,
} from '../config/resolveConsumerConfig.js';
import { DynamoDBLeaseStore } from '../leases/dynamodb/DynamoDBLeaseStore.js';
import { retrievalLabel } from '../leases/retrievalAttribute.js';
import { FanOutShardReader } from '../retrieval/kinesis/FanOutShardReader.js';
import { PollingShardReader } from '../retrieval/kinesis/PollingShardReader.js';
import type { ShardReader } from '../retrieval/ShardReader.js';
import type { RunOptions } from '../run/runShard.js';
import { type Consumer, RxConsumer } from '../rx/RxConsumer.js';
import { KinesisShardLister } from '../shard-sync/kinesis/KinesisShardLister.js';
import { Worker, type WorkerPorts } from '../worker/Worker.js';

// The composition root: wires the AWS adapters (or given ports) into a Worker and puts the RxJS
// surface on it.

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
  const resolved = resolveConsumerConfig(options);
  const exporter = resolved.metrics === undefined ? undefined : createMetricsExporter(resolved.metrics);
  const config = exporter === undefined ? resolved : { ...resolved, meterProvider: exporter.meterProvider };
  const consumer = createConsumerWithPorts(config, {
    leaseStore: new DynamoDBLeaseStore({
      client: config.dynamoDBClient,
      tableName: config.leaseTableName,
      logger: config.logger,
      callTimeoutMs: config.timeouts.leaseTableCallMs,
      retrieval: retrievalLabel(config.retrieval),
      ...(config.leaseAssignment === 'leader' ? { leaseOwnerIndex: true } : {}),
    }),
    ...(config.leaseAssignment === 'leader'
      ? {
          coordinatorStore: new DynamoDBLeaseStore({
            client: config.dynamoDBClient,
            tableName: config.coordinatorTableName,
            logger: config.logger,
            callTimeoutMs: config.timeouts.leaseTableCallMs,
          }),
        }
      : {}),
    shardReader: createShardReader(config),
    shardLister: new KinesisShardLister({
      client: config.kinesisClient,
      streamName: config.streamName,
      streamArn: config.streamArn,
      callTimeoutMs: config.timeouts.kinesisCallMs,
    }),
  });
  return exporter === undefined ? consumer : new ExportingConsumer(consumer, exporter);
}

/**
 * A consumer that owns a metrics exporter: shut down once the consumer stopped (by `stop()`, its
 * signal, or a failed start), so that the last EMF flush holds the final counts; `stop()` resolves
 * after it.
 */
class ExportingConsumer implements Consumer {
  readonly #consumer: Consumer;
  readonly #exporter: MetricsExporter;

  constructor(consumer: Consumer, exporter: MetricsExporter) {
    this.#consumer = consumer;
    this.#exporter = exporter;
    const subscription = consumer.events$.subscribe((event) => {
      if (event.type === 'STATE_CHANGED' && event.state === 'stopped') {
        subscription.unsubscribe();
        void exporter.shutdown();
      }
    });
  }

  get shards$(): Consumer['shards$'] {
    return this.#consumer.shards$;
  }
  get events$(): Consumer['events$'] {
    return this.#consumer.events$;
  }
  get state(): Consumer['state'] {
    return this.#consumer.state;
  }
  get workerId(): string {
    return this.#consumer.workerId;
  }
  get healthAddress(): Consumer['healthAddress'] {
    return this.#consumer.healthAddress;
  }
  start(): Promise<void> {
    return this.#consumer.start();
  }
  run(options: RunOptions): Promise<void> {
    return this.#consumer.run(options);
  }
  async stop(): Promise<void> {
    try {
      await this.#consumer.stop();
    } finally {
      await this.#exporter.shutdown();
    }
  }
}

/** The reader of the configured retrieval mode: the lease, checkpoint and hand-off logic is the same for both. */
function createShardReader(config: ResolvedConsumerConfig): ShardReader {
  const { retrieval } = config;
  if (retrieval.mode === 'fanOut') {
    return new FanOutShardReader({
      client: config.kinesisClient,
      streamName: config.streamName,
      streamArn: config.streamArn,
      consumerName: retrieval.consumerName,
      subscriptionIdleTimeoutMs: retrieval.subscriptionIdleTimeoutMs,
      callTimeoutMs: config.timeouts.kinesisCallMs,
      clock: config.clock,
    });
  }
  return new PollingShardReader({
    client: config.kinesisClient,
    streamName: config.streamName,
    streamArn: config.streamArn,
    maxRecordsPerFetch: retrieval.maxRecordsPerFetch,
    idleTimeBetweenReadsMs: retrieval.idleTimeBetweenReadsMs,
    callTimeoutMs: config.timeouts.kinesisCallMs,
    clock: config.clock,
  });
}

/** A consumer over given ports (the in-memory fakes of `./testing`, or custom adapters). */
export function createConsumerWithPorts(config: ResolvedConsumerConfig, ports: WorkerPorts): Consumer {
  return new RxConsumer(new Worker(config, ports), config);
}
