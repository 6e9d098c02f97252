/**
 * Candidate of `pnpm bench consumer` (its own process): a consumer-core worker with its defaults, on a
 * fresh lease table, drains a pre-loaded stream from TRIM_HORIZON; its processor decodes every record's
 * JSON. CPU and wall time run from the first GetShardIterator (lease table creation and lease taking
 * come before it) to the last record handed to the processor.
 */
import { countRequests, runContender } from '../harness/index.js';
import { createWorker, drainWorker, localClients } from './consumerCoreWorker.js';
import { onFirstCommand } from './markFirstCall.js';
import { type DrainInput, drainFigures, EventLedger } from './shared.js';

runContender<DrainInput>(async (input, probe) => {
  const clients = localClients(input.info);
  const requests = countRequests(clients.kinesis);
  onFirstCommand(clients.kinesis, 'GetShardIterator', () => probe.mark('start'));
  const ledger = new EventLedger(input.records);

  const consumer = createWorker(input, clients, probe.signal);
  await drainWorker(consumer, probe, ledger, 'the consumer-core worker');
  clients.destroy();

  return {
    ...drainFigures(probe, input.records, ledger),
    get_records_calls: requests.count('GetRecords'),
    drain_max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
  };
});
