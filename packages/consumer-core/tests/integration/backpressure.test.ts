import { GetRecordsCommand } from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';
import { createConsumer, type KinesisClientLike, silentLogger } from '../../src/index.js';
import { putRecords, runSlowProcessor } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

const MiB = 1024 * 1024;

it('a processor far slower than the reader, on a 50,000-record backlog, keeps memory within the buffer plus a constant', async () => {
  const streamName = uniqueName('backpressure');
  await local.createStream(streamName, { shardCount: 1 });
  const padding = 'x'.repeat(480);
  const records = Array.from({ length: 50_000 }, (_, i) => ({
    partitionKey: `k${i % 64}`,
    body: `{"i":${i},"p":"${padding}"}`,
  }));
  await putRecords(kinesis, streamName, records); // ~25 MB of backlog
  let getRecordsCalls = 0;
  const counting: KinesisClientLike = {
    send: ((command: unknown, options?: unknown) => {
      if (command instanceof GetRecordsCommand) getRecordsCalls += 1;
      return kinesis.send(command as never, options as never);
    }) as KinesisClientLike['send'],
  };
  const maxBufferedBatches = 2;
  const maxBufferedBytes = 512 * 1024;
  const consumer = createConsumer({
    streamName,
    applicationName: uniqueName('backpressure-app'),
    kinesisClient: counting,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    maxRecordsPerFetch: 500,
    maxBufferedBatches,
    maxBufferedBytes,
    idleTimeBetweenReadsMs: 0,
    logger: silentLogger,
  });
  const baselineHeap = process.memoryUsage().heapUsed;
  let peakHeap = baselineHeap;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 10);
  // The reader gets a 500-record batch in a few ms; this processor takes 150 ms per batch.
  const slow = await runSlowProcessor(consumer, 150, () => getRecordsCalls);
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  await consumer.stop();
  clearInterval(sampler);
  const growthMiB = (peakHeap - baselineHeap) / MiB;
  const { handledBatches, maxAhead: maxCallsAhead } = slow;
  console.info(
    `[backpressure] handled ${handledBatches} batches, ${getRecordsCalls} GetRecords calls, max ahead ${maxCallsAhead}, heap growth ${growthMiB.toFixed(1)} MiB`,
  );
  expect(handledBatches).toBeGreaterThan(5);
  expect(handledBatches * 500).toBeLessThan(records.length / 2); // the backlog is still mostly unread
  // The reader never ran more than the buffer ahead of the processor.
  expect(maxCallsAhead).toBeLessThanOrEqual(maxBufferedBatches + 1);
  // Unbounded reading would hold the whole 25 MB backlog (several times that as objects).
  expect(growthMiB).toBeLessThan(maxBufferedBytes / MiB + 24);
}, 120_000);
