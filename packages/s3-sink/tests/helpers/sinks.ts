import { type ConsumerEvent, silentLogger } from '@shardline/consumer-core';
import type { LocalTwinClient } from '@shardline/local';
import { afterAll } from 'vitest';
import { createS3Sink, type S3Sink, type S3SinkEvent, type S3SinkOptions } from '../../src/index.js';

/** What a test must name for a sink; the rest has defaults. */
export type TestSinkOptions = Partial<S3SinkOptions> &
  Pick<S3SinkOptions, 'streamName' | 'bucket' | 'applicationName'>;

/** A sink built by {@link testSinks}, with every event it emitted so far. */
export interface TestSink {
  readonly sink: S3Sink;
  readonly events: S3SinkEvent[];
  readonly consumerEvents: ConsumerEvent[];
}

/**
 * Builds in-process sinks on the twin's clients for one test file, quick to read and to take leases
 * (100 ms between reads, a lease taken every 500 ms, buffers closed every 500 ms), over `defaults` and
 * then each call's options (`consumer` merged field by field). Every sink it built is stopped after all
 * the file's tests.
 */
export function useTestSinks(
  local: LocalTwinClient,
  defaults: Partial<S3SinkOptions> = {},
): (options: TestSinkOptions) => TestSink {
  const sinks: S3Sink[] = [];
  afterAll(async () => {
    await Promise.allSettled(sinks.map((s) => s.stop()));
  });
  return (options: TestSinkOptions): TestSink => {
    const s = createS3Sink({
      kinesisClient: local.kinesis,
      dynamoDBClient: local.dynamodb,
      s3Client: local.s3,
      logger: silentLogger,
      bufferIntervalMs: 500,
      ...defaults,
      ...options,
      consumer: {
        idleTimeBetweenReadsMs: 100,
        leaseTakeIntervalMs: 500,
        ...defaults.consumer,
        ...options.consumer,
      },
    });
    const events: S3SinkEvent[] = [];
    const consumerEvents: ConsumerEvent[] = [];
    s.events$.subscribe((e) => events.push(e));
    s.consumer.events$.subscribe((e) => consumerEvents.push(e));
    sinks.push(s);
    return { sink: s, events, consumerEvents };
  };
}

/** How long `stop()` took, in milliseconds. */
export async function timeStop(sink: S3Sink): Promise<number> {
  const startedMs = performance.now();
  await sink.stop();
  return performance.now() - startedMs;
}
