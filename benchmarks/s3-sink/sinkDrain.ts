/**
 * Candidate of `pnpm bench s3-sink` (its own process): `createS3Sink` on a fresh lease table and bucket
 * drains a pre-loaded stream from TRIM_HORIZON. Wall time and CPU run from the sink's first
 * GetShardIterator (lease table creation and lease taking come before it) to the OBJECT_WRITTEN event
 * that makes every record durable in S3. The buffer interval is the maximum (900 s), so objects are
 * closed by size only; once the sink holds every record (its `metrics()`), `stop()` closes the last
 * partial buffer of each shard, as the bare loop does at the end of each shard.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { dynamoDBClientConfig, kinesisClientConfig, s3ClientConfig } from '@shardline/local';
import { createS3Sink } from '@shardline/s3-sink';
import { onFirstCommand } from '../consumer/markFirstCall.js';
import { countRequests, runContender } from '../harness/index.js';
import { type DrainInput, drainMetrics } from './shared.js';

const METRICS_POLL_MS = 10;

runContender<DrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const s3 = new S3Client(s3ClientConfig(input.info));
  const s3Requests = countRequests(s3);
  onFirstCommand(kinesis, 'GetShardIterator', () => probe.mark('start'));

  const sink = createS3Sink({
    streamName: input.streamName,
    bucket: input.bucket,
    applicationName: input.tableName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    s3Client: s3,
    bufferSizeBytes: input.bufferSizeBytes,
    bufferIntervalMs: 900_000,
    compression: input.compression,
    signal: probe.signal,
  });

  let durableRecords = 0;
  let objects = 0;
  let storedBytes = 0;
  let failure: Error | undefined;
  let markDurable: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const allDurable = new Promise<void>((resolve, reject) => {
    markDurable = resolve;
    fail = reject;
  });
  sink.events$.subscribe((event) => {
    if (event.type === 'OBJECT_WRITTEN') {
      if (event.kind !== 'data') {
        failure = new Error(`the sink wrote an error object ${event.key} (${event.recordCount} records)`);
        fail(failure);
        return;
      }
      durableRecords += event.recordCount;
      objects += 1;
      storedBytes += event.bytes;
      if (durableRecords === input.records) {
        probe.mark('end');
        markDurable();
      }
    } else if (event.type === 'ERROR') {
      console.error(`sink error: ${event.error.message}`);
    }
  });

  await sink.start();
  // Once the sink's buffers hold the last records, stop() closes them into the last objects.
  const poll = setInterval(() => {
    const m = sink.metrics();
    if (m.bufferedRecords + m.recordsWritten + m.errorRecords >= input.records) {
      clearInterval(poll);
      void sink.stop();
    }
  }, METRICS_POLL_MS);
  const aborted = new Promise<never>((_, reject) => {
    probe.signal.addEventListener('abort', () => reject(probe.signal.reason), { once: true });
  });
  try {
    await Promise.race([allDurable, aborted]);
  } finally {
    clearInterval(poll);
    await sink.stop();
    kinesis.destroy();
    dynamodb.destroy();
    s3.destroy();
  }
  if (failure) throw failure;
  if (durableRecords !== input.records) {
    throw new Error(`the sink reported ${durableRecords} records durable, expected ${input.records}`);
  }
  const metrics = sink.metrics();
  return {
    ...drainMetrics(input, probe.between('start', 'end'), { objects, storedBytes }),
    s3_put_object_calls: s3Requests.count('PutObject'),
    upload_errors: metrics.uploadErrors,
  };
});
