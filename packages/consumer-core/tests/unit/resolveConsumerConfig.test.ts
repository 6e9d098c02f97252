import { describe, expect, it } from 'vitest';
import { CONSUMER_DEFAULTS } from '../../src/config/resolveConsumerConfig.js';
import { ConfigurationError, type ConsumerOptions, resolveConsumerConfig } from '../../src/index.js';

const client = { send: async () => ({}) } as unknown as ConsumerOptions['kinesisClient'];
const ddb = { send: async () => ({}) } as unknown as ConsumerOptions['dynamoDBClient'];
const valid: ConsumerOptions = {
  streamName: 'orders',
  applicationName: 'orders-app',
  kinesisClient: client,
  dynamoDBClient: ddb,
};

describe('resolveConsumerConfig', () => {
  it('checks the metrics option: its own problems under metrics.*, and not with meterProvider', () => {
    expect(resolveConsumerConfig({ ...valid, metrics: { kind: 'emf' } }).metrics).toEqual({ kind: 'emf' });
    let error: unknown;
    try {
      resolveConsumerConfig({
        ...valid,
        meterProvider: { getMeter: () => ({}) } as never,
        metrics: { kind: 'prometheus', port: 0 },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems.map((p) => p.path).sort()).toEqual([
      'metrics',
      'metrics.port',
    ]);
    expect(() => resolveConsumerConfig({ ...valid, metrics: { kind: 'statsd' } as never })).toThrow(
      /metrics\.kind: must be "prometheus" or "emf"/,
    );
  });

  it('applies the defaults, deriving renew and take intervals from the failover time', () => {
    const config = resolveConsumerConfig(valid);
    expect(config).toMatchObject({
      streamName: 'orders',
      leaseTableName: 'orders-app',
      initialPosition: CONSUMER_DEFAULTS.initialPosition,
      failoverTimeMs: 10_000,
      renewIntervalMs: 3_308,
      leaseTakeIntervalMs: 20_050,
      retrieval: { mode: 'polling', maxRecordsPerFetch: 10_000, idleTimeBetweenReadsMs: 1_000 },
      checkpointIntervalMs: 5_000,
      maxLeasesPerWorker: Number.POSITIVE_INFINITY,
    });
    expect(config.workerId).toMatch(/-\d+-[0-9a-f]{8}$/);
    expect(resolveConsumerConfig({ ...valid, failoverTimeMs: 3_000 }).renewIntervalMs).toBe(975);
  });

  it('defaults the call deadlines and checks every one given', () => {
    expect(resolveConsumerConfig(valid).timeouts).toEqual({ kinesisCallMs: 10_000, leaseTableCallMs: 5_000 });
    expect(resolveConsumerConfig({ ...valid, timeouts: { kinesisCallMs: 2_000 } }).timeouts).toEqual({
      kinesisCallMs: 2_000,
      leaseTableCallMs: 5_000,
    });
    let error: unknown;
    try {
      resolveConsumerConfig({
        ...valid,
        timeouts: { kinesisCallMs: 0, leaseTableCallMs: 'soon', dynamoCallMs: 1 } as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['timeouts.dynamoCallMs', 'timeouts.kinesisCallMs', 'timeouts.leaseTableCallMs']);
    expect(() => resolveConsumerConfig({ ...valid, timeouts: 5_000 as never })).toThrow(ConfigurationError);
  });

  it('defaults and validates the shard failure policy, listing every problem', () => {
    expect(resolveConsumerConfig(valid)).toMatchObject({
      maxShardFailures: 5,
      shardFailureBackoffMs: 10_000,
    });
    const error = (() => {
      try {
        resolveConsumerConfig({ ...valid, maxShardFailures: 0, shardFailureBackoffMs: -1 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems.map((p) => p.path).sort()).toEqual([
      'maxShardFailures',
      'shardFailureBackoffMs',
    ]);
  });

  it('takes a stream ARN and the stream name inside it', () => {
    const config = resolveConsumerConfig({
      ...valid,
      streamName: undefined,
      streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks',
    });
    expect(config.streamLabel).toBe('clicks');
  });

  it('lists every problem in one ConfigurationError', () => {
    let error: unknown;
    try {
      resolveConsumerConfig({
        streamName: 'bad name!',
        streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/x',
        applicationName: '',
        kinesisClient: undefined as unknown as ConsumerOptions['kinesisClient'],
        dynamoDBClient: ddb,
        failoverTimeMs: 500,
        maxRecordsPerFetch: 20_000,
        idleTimeBetweenReadsMs: -1,
        initialPosition: 'EARLIEST' as unknown as 'LATEST',
        checkpointIntervalMs: 1.5,
        colour: 'blue',
      } as ConsumerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      [
        'applicationName',
        'applicationName',
        'checkpointIntervalMs',
        'colour',
        'failoverTimeMs',
        'idleTimeBetweenReadsMs',
        'initialPosition',
        'kinesisClient',
        'maxRecordsPerFetch',
        'streamArn',
      ].sort(),
    );
  });

  it('resolves each retrieval mode with its own options; the top-level polling options stay aliases', () => {
    expect(resolveConsumerConfig({ ...valid, idleTimeBetweenReadsMs: 200 }).retrieval).toEqual({
      mode: 'polling',
      idleTimeBetweenReadsMs: 200,
      maxRecordsPerFetch: 10_000,
    });
    expect(
      resolveConsumerConfig({ ...valid, retrieval: { polling: { maxRecordsPerFetch: 50 } } }).retrieval,
    ).toEqual({ mode: 'polling', idleTimeBetweenReadsMs: 1_000, maxRecordsPerFetch: 50 });
    expect(resolveConsumerConfig({ ...valid, retrieval: 'fanOut' }).retrieval).toEqual({
      mode: 'fanOut',
      consumerName: 'orders-app',
      subscriptionIdleTimeoutMs: 35_000,
    });
    expect(
      resolveConsumerConfig({
        ...valid,
        retrieval: { fanOut: { consumerName: 'orders-push', subscriptionIdleTimeoutMs: 10_000 } },
      }).retrieval,
    ).toEqual({ mode: 'fanOut', consumerName: 'orders-push', subscriptionIdleTimeoutMs: 10_000 });
  });

  it('lists every retrieval problem, polling options given twice or given to fan-out included', () => {
    const pathsOf = (options: Partial<ConsumerOptions>) => {
      try {
        resolveConsumerConfig({ ...valid, ...options } as ConsumerOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as ConfigurationError).problems.map((p) => p.path).sort();
      }
      return [];
    };
    expect(
      pathsOf({ idleTimeBetweenReadsMs: 100, retrieval: { polling: { idleTimeBetweenReadsMs: 100 } } }),
    ).toEqual(['idleTimeBetweenReadsMs']);
    expect(pathsOf({ maxRecordsPerFetch: 10, retrieval: 'fanOut' })).toEqual(['maxRecordsPerFetch']);
    expect(
      pathsOf({
        retrieval: { fanOut: { consumerName: 'bad name', subscriptionIdleTimeoutMs: 5, colour: 1 } as never },
      }),
    ).toEqual([
      'retrieval.fanOut.colour',
      'retrieval.fanOut.consumerName',
      'retrieval.fanOut.subscriptionIdleTimeoutMs',
    ]);
    expect(pathsOf({ retrieval: 'push' as never })).toEqual(['retrieval']);
    expect(pathsOf({ retrieval: { polling: {}, fanOut: {} } as never })).toEqual(['retrieval']);
    expect(pathsOf({ retrieval: { polling: { maxRecordsPerFetch: 0 } } })).toEqual([
      'retrieval.polling.maxRecordsPerFetch',
    ]);
  });

  it('refuses a renew interval that cannot keep a lease through one failed renewal', () => {
    expect(() => resolveConsumerConfig({ ...valid, failoverTimeMs: 3_000, renewIntervalMs: 2_000 })).toThrow(
      /renewIntervalMs: must be less than half of failoverTimeMs/,
    );
  });

  it('needs a stream', () => {
    expect(() => resolveConsumerConfig({ ...valid, streamName: undefined })).toThrow(
      /give streamName or streamArn/,
    );
  });

  it('lease cleanup and the stream identity guard: on by default (as the KCL), switchable, validated', () => {
    expect(resolveConsumerConfig(valid)).toMatchObject({
      cleanupLeasesUponShardCompletion: true,
      cleanupGarbageLeases: true,
      leaseCleanupIntervalMs: 60_000,
      garbageLeaseGracePeriodMs: 1_800_000,
      acceptStreamIdentityChange: false,
    });
    expect(
      resolveConsumerConfig({
        ...valid,
        cleanupLeasesUponShardCompletion: false,
        cleanupGarbageLeases: false,
      }),
    ).toMatchObject({ cleanupLeasesUponShardCompletion: false, cleanupGarbageLeases: false });
    let error: unknown;
    try {
      resolveConsumerConfig({
        ...valid,
        cleanupGarbageLeases: 'yes' as unknown as boolean,
        acceptStreamIdentityChange: 1 as unknown as boolean,
        leaseCleanupIntervalMs: 0,
        shardSyncIntervalMs: 60_000,
        garbageLeaseGracePeriodMs: 10_000,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'acceptStreamIdentityChange',
      'cleanupGarbageLeases',
      'garbageLeaseGracePeriodMs',
      'leaseCleanupIntervalMs',
    ]);
  });
});
