import type { ConsumerOptions } from '../config/resolveConsumerConfig.js';
import { resolveConsumerConfig } from '../config/resolveConsumerConfig.js';
import { createConsumerWithPorts } from '../consumer/createConsumer.js';
import { silentLogger } from '../internal/logger.js';
import { InMemoryLeaseStore } from '../leases/InMemoryLeaseStore.js';
import type { LeaseStore } from '../leases/LeaseStore.js';
import type { ShardReader } from '../retrieval/ShardReader.js';
import type { Consumer } from '../rx/RxConsumer.js';
import type { ShardLister } from '../shard-sync/ShardLister.js';
import type { InMemoryStream } from './InMemoryStream.js';

/** Options of {@link createTestConsumer}: consumer options without AWS clients or stream, plus fakes. */
export interface TestConsumerOptions
  extends Omit<
    ConsumerOptions,
    'kinesisClient' | 'dynamoDBClient' | 'streamName' | 'streamArn' | 'applicationName'
  > {
  /** The fake stream to read: an {@link InMemoryStream}, or any reader and lister of your own. */
  readonly stream: ShardReader & ShardLister;
  /** The lease table. @defaultValue a new {@link InMemoryLeaseStore} */
  readonly leaseStore?: LeaseStore;
  /**
   * The coordinator table of `leaseAssignment: 'leader'` (share one between the workers of a test
   * fleet, as the lease table). @defaultValue a new {@link InMemoryLeaseStore}
   */
  readonly coordinatorStore?: LeaseStore;
  /** @defaultValue `'test-app'` */
  readonly applicationName?: string;
}

const unusedClient = { send: () => Promise.reject(new Error('The test consumer makes no AWS calls.')) };

/**
 * A consumer over an {@link InMemoryStream} and an in-memory lease table: the real worker, leases,
 * checkpoints and RxJS surface, without emulators. Defaults suit tests: `TRIM_HORIZON`, checkpoints
 * written at once, a silent logger.
 *
 * @example
 * ```ts
 * const stream = new InMemoryStream({ shardCount: 2 });
 * stream.putRecord('user-1', '{"n":1}');
 * const consumer = createTestConsumer({ stream });
 * await consumer.run({ processBatch: async (batch) => handled.push(...batch.records) });
 * ```
 */
export function createTestConsumer(options: TestConsumerOptions): Consumer {
  const { stream, leaseStore, coordinatorStore, ...rest } = options;
  const config = resolveConsumerConfig({
    initialPosition: 'TRIM_HORIZON',
    checkpointIntervalMs: 0,
    logger: silentLogger,
    leaseTakeIntervalMs: 200,
    shardSyncIntervalMs: 1_000,
    ...rest,
    applicationName: options.applicationName ?? 'test-app',
    streamName: 'in-memory',
    kinesisClient: unusedClient as unknown as ConsumerOptions['kinesisClient'],
    dynamoDBClient: unusedClient as unknown as ConsumerOptions['dynamoDBClient'],
  });
  return createConsumerWithPorts(config, {
    leaseStore: leaseStore ?? new InMemoryLeaseStore(),
    ...(config.leaseAssignment === 'leader'
      ? { coordinatorStore: coordinatorStore ?? new InMemoryLeaseStore() }
      : {}),
    shardReader: stream,
    shardLister: stream,
  });
}
