/**
 * Fan-out latency candidate and its polling baseline of `pnpm bench consumer` (its own process): a
 * consumer-core worker, `retrieval: 'fanOut'` or polling with its defaults, reads a live kinesis-local
 * stream from TRIM_HORIZON while the parent puts 50 records/s. Once it reads every shard (fan-out: a
 * subscription is up on each, `SUBSCRIBED`; polling: a `GetRecords` call on each) it emits `ready`; then,
 * for each batch, the events' indexes and the moment its processor got the batch. `GetRecords` calls
 * between `ready` and the last record (the steady state) are counted by consumer-core's instrumented
 * client the worker reads through.
 */
import { instrumentKinesisClient } from '@shardline/consumer-core/testing';
import { runContender } from '../harness/index.js';
import { createWorker, localClients, runForLatency } from './consumerCoreWorker.js';
import { EventLedger, type KinesisLocalLatencyInput, latencySpan, retrievalFigures } from './shared.js';

runContender<KinesisLocalLatencyInput>(async (input, probe) => {
  const clients = localClients(input.info);
  const instrumented = instrumentKinesisClient(clients.kinesis);
  const ledger = new EventLedger(input.records);

  const consumer = createWorker(input, clients, probe.signal, {
    kinesisClient: instrumented.client,
    retrieval: input.retrieval,
  });
  const subscribed = new Set<string>();
  const subscription = consumer.events$.subscribe((event) => {
    if (event.type === 'SUBSCRIBED') subscribed.add(event.shardId);
  });
  await runForLatency(consumer, probe, ledger);
  const shardsRead = () =>
    input.retrieval === 'fanOut' ? subscribed.size : instrumented.getRecordsCallTimesMs().size;
  const { readyAtMs, endAtMs } = await latencySpan(probe, ledger, {
    what: input.retrieval === 'fanOut' ? 'a subscription on every shard' : 'a GetRecords call on every shard',
    holds: () => shardsRead() >= input.shardIds.length,
  });
  await consumer.stop();
  subscription.unsubscribe();
  clients.destroy();

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
