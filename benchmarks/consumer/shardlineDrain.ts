/**
 * Candidate of `pnpm bench consumer` (its own process): a consumer-core worker with its defaults, on a
 * fresh lease table, drains a pre-loaded stream from TRIM_HORIZON; its processor decodes every record's
 * JSON. CPU and wall time run from the first GetShardIterator (lease table creation and lease taking
 * come before it) to the last record handed to the processor.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { dynamoDBClientConfig, kinesisClientConfig } from '@shardline/local';
import { countRequests, runContender } from '../harness/index.js';
import { onFirstCommand } from './markFirstCall.js';
import { type DrainInput, decodeEvent, drainFigures, EventLedger, eventIndex } from './shared.js';

runContender<DrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const requests = countRequests(kinesis);
  onFirstCommand(kinesis, 'GetShardIterator', () => probe.mark('start'));
  const ledger = new EventLedger(input.records);

  let done: () => void = () => {};
  const allSeen = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = createConsumer({
    streamName: input.streamName,
    applicationName: input.tableName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    signal: probe.signal,
  });
  await consumer.run({
    processBatch: async (batch) => {
      for (const record of batch.records) {
        if (ledger.see(eventIndex(decodeEvent(record.data)))) {
          probe.mark('end');
          done();
        }
      }
    },
  });
  const aborted = new Promise<never>((_, reject) => {
    probe.signal.addEventListener('abort', () => reject(probe.signal.reason), { once: true });
  });
  await Promise.race([allSeen, aborted]);
  await consumer.stop();
  kinesis.destroy();
  dynamodb.destroy();
  ledger.assertComplete('the consumer-core worker');

  return {
    ...drainFigures(probe, input.records, ledger),
    get_records_calls: requests.count('GetRecords'),
    drain_max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
  };
});
