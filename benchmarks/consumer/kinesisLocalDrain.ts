/**
 * Fan-out candidate and its polling baseline of `pnpm bench consumer` (its own process): a consumer-core
 * worker drains a stream pre-loaded on kinesis-local from TRIM_HORIZON, with `retrieval: 'fanOut'`
 * (SubscribeToShard through a stream consumer it registers) or with polling (`GetRecords`), every other
 * option at its default; its processor decodes every record's JSON. CPU and wall time run from the first
 * read call (`SubscribeToShard` or `GetShardIterator`; lease table creation, lease taking and the
 * consumer's registration come before it) to the last record handed to the processor. Kinesis calls are
 * counted by consumer-core's instrumented client, which the worker reads through.
 */
import { instrumentKinesisClient } from '@shardline/consumer-core/testing';
import { runContender } from '../harness/index.js';
import { createWorker, drainWorker, localClients } from './consumerCoreWorker.js';
import { onFirstCommand } from './markFirstCall.js';
import { drainFigures, EventLedger, type KinesisLocalDrainInput, retrievalFigures } from './shared.js';

runContender<KinesisLocalDrainInput>(async (input, probe) => {
  const clients = localClients(input.info);
  const instrumented = instrumentKinesisClient(clients.kinesis);
  const firstRead = input.retrieval === 'fanOut' ? 'SubscribeToShard' : 'GetShardIterator';
  onFirstCommand(clients.kinesis, firstRead, () => probe.mark('start'));
  const ledger = new EventLedger(input.records);

  const consumer = createWorker(input, clients, probe.signal, {
    kinesisClient: instrumented.client,
    retrieval: input.retrieval,
  });
  await drainWorker(consumer, probe, ledger, `the consumer-core worker (${input.retrieval})`);
  clients.destroy();

  return {
    ...drainFigures(probe, input.records, ledger),
    // Every record the processor was handed goes through the ledger: redeliveries are its duplicates.
    records_delivered: ledger.distinct + ledger.duplicates,
    ...retrievalFigures(instrumented),
  };
});
