/**
 * One consumer-core worker of `pnpm bench failover` (its own process, so it can be stopped or SIGKILLed).
 * Emits `batch` for every batch it processes (shard, bodies, monotonic time) and `requests` every second
 * with its cumulative lease-table requests by kind, counted by a wrapper on its DynamoDB client (the
 * library's own `instrumentDynamoDBClient`, independent of the coordinator's bookkeeping).
 * On `stop()` it stops gracefully (final checkpoints, leases released) and reports.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer, silentLogger } from '@shardline/consumer-core';
import { instrumentDynamoDBClient } from '@shardline/consumer-core/testing';
import { dynamoDBClientConfig, kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { monotonicNowMs, runContender } from '../harness/index.js';

/** Input of the failover worker. */
export interface FailoverWorkerInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly applicationName: string;
  readonly workerId: string;
  readonly failoverTimeMs: number;
  /** The lease-table scan interval; the library default (20 050 ms, as the KCL) when absent. */
  readonly leaseTakeIntervalMs?: number;
}

/** `batch` event data. */
export interface BatchEvent {
  readonly workerId: string;
  readonly shardId: string;
  readonly bodies: readonly string[];
  readonly atMs: number;
}

/** `requests` event data: cumulative counts by kind. */
export interface RequestsEvent {
  readonly workerId: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly atMs: number;
}

runContender<FailoverWorkerInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const counted = instrumentDynamoDBClient(dynamodb);
  const consumer = createConsumer({
    streamName: input.streamName,
    applicationName: input.applicationName,
    workerId: input.workerId,
    kinesisClient: kinesis,
    dynamoDBClient: counted.client,
    initialPosition: 'TRIM_HORIZON',
    failoverTimeMs: input.failoverTimeMs,
    ...(input.leaseTakeIntervalMs === undefined ? {} : { leaseTakeIntervalMs: input.leaseTakeIntervalMs }),
    idleTimeBetweenReadsMs: 200,
    logger: silentLogger,
  });
  const decoder = new TextDecoder();
  await consumer.run({
    processBatch: async (batch) => {
      probe.emit('batch', {
        workerId: input.workerId,
        shardId: batch.shardId,
        bodies: batch.records.map((r) => decoder.decode(r.data)),
        atMs: monotonicNowMs(),
      } satisfies BatchEvent);
    },
  });
  const report = () =>
    probe.emit('requests', {
      workerId: input.workerId,
      counts: Object.fromEntries(counted.counts()),
      atMs: monotonicNowMs(),
    } satisfies RequestsEvent);
  const timer = setInterval(report, 1_000);
  await new Promise<void>((resolve) =>
    probe.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  clearInterval(timer);
  await consumer.stop();
  report();
  kinesis.destroy();
  dynamodb.destroy();
  return {};
});
