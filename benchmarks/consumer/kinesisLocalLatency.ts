/**
 * Fan-out latency candidate and its polling baseline of `pnpm bench consumer` (its own process): a
 * consumer-core worker, `retrieval: 'fanOut'` or polling with its defaults, reads a live kinesis-local
 * stream from TRIM_HORIZON while the parent puts 50 records/s. Once it reads every shard (fan-out: a
 * subscription is up on each, `SUBSCRIBED`; polling: a `GetRecords` call on each) it emits `ready`; then,
 * for each batch, the events' indexes and the moment its processor got the batch. `GetRecords` calls
 * between `ready` and the last record (the steady state) are counted by consumer-core's instrumented
 * client the worker reads through.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { instrumentKinesisClient } from '@shardline/consumer-core/testing';
import { dynamoDBClientConfig, kinesisClientConfig } from '@shardline/local';
import { monotonicNowMs, runContender } from '../harness/index.js';
import {
  decodeEvent,
  EventLedger,
  eventIndex,
  type KinesisLocalLatencyInput,
  READY_EVENT,
  RECEIVED_EVENT,
  type ReceivedEvent,
  retrievalFigures,
} from './shared.js';
import { waitFor } from './waitFor.js';

runContender<KinesisLocalLatencyInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const instrumented = instrumentKinesisClient(kinesis);
  const ledger = new EventLedger(input.records);

  const consumer = createConsumer({
    streamName: input.streamName,
    applicationName: input.tableName,
    kinesisClient: instrumented.client,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    retrieval: input.retrieval,
    signal: probe.signal,
  });
  const subscribed = new Set<string>();
  const subscription = consumer.events$.subscribe((event) => {
    if (event.type === 'SUBSCRIBED') subscribed.add(event.shardId);
  });
  await consumer.run({
    processBatch: async (batch) => {
      const atMs = monotonicNowMs();
      const indexes = batch.records.map((record) => eventIndex(decodeEvent(record.data)));
      for (const index of indexes) ledger.see(index);
      probe.emit(RECEIVED_EVENT, { indexes, atMs } satisfies ReceivedEvent);
    },
  });
  const shardsRead = () =>
    input.retrieval === 'fanOut' ? subscribed.size : instrumented.getRecordsCallTimesMs().size;
  await waitFor(
    input.retrieval === 'fanOut' ? 'a subscription on every shard' : 'a GetRecords call on every shard',
    () => shardsRead() >= input.shardIds.length,
    probe.signal,
  );
  const readyAtMs = performance.now();
  probe.mark('ready');
  probe.emit(READY_EVENT);
  await waitFor('every event put', () => ledger.complete, probe.signal, 600_000);
  probe.mark('end');
  const endAtMs = performance.now();
  await consumer.stop();
  subscription.unsubscribe();
  kinesis.destroy();
  dynamodb.destroy();

  const steadyGetRecords = [...instrumented.getRecordsCallTimesMs().values()]
    .flat()
    .filter((atMs) => atMs >= readyAtMs && atMs <= endAtMs).length;
  const { wallMs } = probe.between('ready', 'end');
  return {
    ...retrievalFigures(instrumented),
    steady_get_records_calls: steadyGetRecords,
    get_records_per_shard_s: steadyGetRecords / input.shardIds.length / (wallMs / 1000),
    duplicates: ledger.duplicates,
  };
});
