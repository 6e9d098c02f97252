/**
 * Latency candidate of `pnpm bench consumer` (its own process): a consumer-core worker reads a live
 * stream from TRIM_HORIZON while the parent puts 50 records/s. Once every shard has been read once it
 * emits `ready`; then, for each batch, the events' indexes and the moment its processor got the batch
 * (the parent holds the put times). GetRecords calls are counted per shard at the client.
 */
import { countRequests, runContender } from '../harness/index.js';
import { createWorker, localClients, runForLatency } from './consumerCoreWorker.js';
import { EventLedger, type LatencyInput, latencySpan } from './shared.js';

runContender<LatencyInput>(async (input, probe) => {
  const clients = localClients(input.info);
  const requests = countRequests(clients.kinesis);
  const ledger = new EventLedger(input.records);

  const consumer = createWorker(
    input,
    clients,
    probe.signal,
    input.idleTimeBetweenReadsMs === undefined
      ? {}
      : { idleTimeBetweenReadsMs: input.idleTimeBetweenReadsMs },
  );
  await runForLatency(consumer, probe, ledger);
  const shardsRead = () =>
    new Set(requests.requests.filter((r) => r.command === 'GetRecords').map((r) => r.shardId)).size;
  await latencySpan(probe, ledger, {
    what: 'a GetRecords call on every shard',
    holds: () => shardsRead() >= input.shardIds.length,
  });
  await consumer.stop();
  clients.destroy();

  const { wallMs } = probe.between('ready', 'end');
  const calls = requests.requests.filter((r) => r.command === 'GetRecords').length;
  return {
    max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
    get_records_per_shard_s: calls / input.shardIds.length / (wallMs / 1000),
    duplicates: ledger.duplicates,
  };
});
