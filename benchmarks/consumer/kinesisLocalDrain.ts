/**
 * Fan-out candidate and its polling baseline of `pnpm bench consumer` (its own process): a consumer-core
 * worker drains a stream pre-loaded on kinesis-local from TRIM_HORIZON, with `retrieval: 'fanOut'`
 * (SubscribeToShard through a stream consumer it registers) or with polling (`GetRecords`), every other
 * option at its default; its processor decodes every record's JSON. CPU and wall time run from the first
 * read call (`SubscribeToShard` or `GetShardIterator`; lease table creation, lease taking and the
 * consumer's registration come before it) to the last record handed to the processor. Kinesis calls are
 * counted by consumer-core's instrumented client, which the worker reads through.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { instrumentKinesisClient } from '@shardline/consumer-core/testing';
import { dynamoDBClientConfig, kinesisClientConfig } from '@shardline/local';
import { runContender } from '../harness/index.js';
import { onFirstCommand } from './markFirstCall.js';
import {
  decodeEvent,
  drainFigures,
  EventLedger,
  eventIndex,
  type KinesisLocalDrainInput,
  retrievalFigures,
} from './shared.js';

runContender<KinesisLocalDrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const instrumented = instrumentKinesisClient(kinesis);
  const firstRead = input.retrieval === 'fanOut' ? 'SubscribeToShard' : 'GetShardIterator';
  onFirstCommand(kinesis, firstRead, () => probe.mark('start'));
  const ledger = new EventLedger(input.records);
  let delivered = 0;

  let done: () => void = () => {};
  const allSeen = new Promise<void>((resolve) => {
    done = resolve;
  });
  const consumer = createConsumer({
    streamName: input.streamName,
    applicationName: input.tableName,
    kinesisClient: instrumented.client,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    retrieval: input.retrieval,
    signal: probe.signal,
  });
  await consumer.run({
    processBatch: async (batch) => {
      delivered += batch.records.length;
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
  ledger.assertComplete(`the consumer-core worker (${input.retrieval})`);

  return {
    ...drainFigures(probe, input.records, ledger),
    records_delivered: delivered,
    ...retrievalFigures(instrumented),
  };
});
