// The consumer's `metrics` option on the local twin: the exporter started by createConsumer publishes
// the consumer's instruments, and stops with it. Counts are checked against what was put on the stream.
import { createServer } from 'node:net';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { createConsumer, silentLogger } from '../../src/index.js';
import { putRecords } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function streamWith(name: string, count: number): Promise<string> {
  const streamName = uniqueName(name);
  await local.createStream(streamName, { shardCount: 2 });
  const written = await putRecords(
    kinesis,
    streamName,
    Array.from({ length: count }, (_, i) => ({ partitionKey: `k${i}`, body: `{"i":${i}}` })),
  );
  expect(written).toHaveLength(count); // every record acknowledged by the stream
  return streamName;
}

it('metrics: prometheus serves shardline_consumer_ series while the consumer runs and closes its port at stop', async () => {
  const count = 40;
  const streamName = await streamWith('consumer-prom', count);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  const consumer = createConsumer({
    streamName,
    applicationName: uniqueName('consumer-prom-app'),
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    idleTimeBetweenReadsMs: 100,
    logger: silentLogger,
    metrics: { kind: 'prometheus', host: '127.0.0.1', port },
  });
  let processed = 0;
  await consumer.run({
    processBatch: async (batch) => {
      processed += batch.records.length;
    },
  });
  try {
    await until(() => processed >= count, 30_000, 'every record processed');
    const body = await (await fetch(url)).text();
    const total = body
      .split('\n')
      .filter((l) => l.startsWith('shardline_consumer_records_processed_total{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    expect(total).toBe(count);
  } finally {
    await consumer.stop();
  }
  await expect(fetch(url)).rejects.toThrow();
}, 90_000);

it('metrics: emf writes its last flush when the consumer stops', async () => {
  const count = 30;
  const streamName = await streamWith('consumer-emf', count);
  const lines: string[] = [];
  const consumer = createConsumer({
    streamName,
    applicationName: uniqueName('consumer-emf-app'),
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    idleTimeBetweenReadsMs: 100,
    logger: silentLogger,
    metrics: { kind: 'emf', namespace: 'Test', write: (line) => lines.push(line) },
  });
  let processed = 0;
  await consumer.run({
    processBatch: async (batch) => {
      processed += batch.records.length;
    },
  });
  await until(() => processed >= count, 30_000, 'every record processed');
  expect(lines).toEqual([]); // the first flush is 60 s away
  await consumer.stop();
  const documents = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const total = documents.reduce(
    (sum, d) => sum + ((d['shardline.consumer.records.processed'] as number | undefined) ?? 0),
    0,
  );
  expect(total).toBe(count);
  for (const d of documents) {
    expect(d).toMatchObject({ 'shardline.application': expect.any(String), 'shardline.stream': streamName });
    expect(d['shardline.shard.id']).toBeUndefined();
  }
}, 90_000);
