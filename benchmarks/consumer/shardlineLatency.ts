/**
 * Latency candidate of `pnpm bench consumer` (its own process): a consumer-core worker reads a live
 * stream from TRIM_HORIZON while the parent puts 50 records/s. Once every shard has been read once it
 * emits `ready`; then, for each batch, the events' indexes and the moment its processor got the batch
 * (the parent holds the put times). GetRecords calls are counted per shard at the client.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { dynamoDBClientConfig, kinesisClientConfig } from '@shardline/local';
import { countRequests, monotonicNowMs, runContender } from '../harness/index.js';
import {
  decodeEvent,
  EventLedger,
  eventIndex,
  type LatencyInput,
  READY_EVENT,
  RECEIVED_EVENT,
  type ReceivedEvent,
} from './shared.js';
import { waitFor } from './waitFor.js';

runContender<LatencyInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const requests = countRequests(kinesis);
  const ledger = new EventLedger(input.records);

  const consumer = createConsumer({
    streamName: input.streamName,
    applicationName: input.tableName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    ...(input.idleTimeBetweenReadsMs === undefined
      ? {}
      : { idleTimeBetweenReadsMs: input.idleTimeBetweenReadsMs }),
    signal: probe.signal,
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
    new Set(requests.requests.filter((r) => r.command === 'GetRecords').map((r) => r.shardId)).size;
  await waitFor(
    'a GetRecords call on every shard',
    () => shardsRead() >= input.shardIds.length,
    probe.signal,
  );
  probe.mark('ready');
  probe.emit(READY_EVENT);
  await waitFor('every event put', () => ledger.complete, probe.signal, 600_000);
  probe.mark('end');
  await consumer.stop();
  kinesis.destroy();
  dynamodb.destroy();

  const { wallMs } = probe.between('ready', 'end');
  const calls = requests.requests.filter((r) => r.command === 'GetRecords').length;
  return {
    max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
    get_records_per_shard_s: calls / input.shardIds.length / (wallMs / 1000),
    duplicates: ledger.duplicates,
  };
});
