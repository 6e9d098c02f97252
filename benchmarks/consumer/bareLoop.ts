/**
 * Baseline of `pnpm bench consumer` (its own process): one GetShardIterator(TRIM_HORIZON) + GetRecords
 * loop per shard over a pre-loaded stream, with the client settings of the worker, decoding every
 * record's JSON. The ceiling a consumer library is held against.
 */
import { GetRecordsCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig } from '@shardline/local';
import { countRequests, runContender, trimHorizonIterator } from '../harness/index.js';
import { type DrainInput, decodeEvent, drainFigures, EventLedger, eventIndex } from './shared.js';

runContender<DrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const requests = countRequests(kinesis);
  const ledger = new EventLedger(input.records);

  probe.mark('start'); // the first GetShardIterator
  await Promise.all(
    input.shardIds.map(async (shardId) => {
      let iterator = await trimHorizonIterator(kinesis, input.streamName, shardId);
      while (iterator && !ledger.complete) {
        probe.signal.throwIfAborted();
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const records = out.Records ?? [];
        for (const record of records) {
          if (ledger.see(eventIndex(decodeEvent(record.Data ?? new Uint8Array())))) probe.mark('end');
        }
        // Everything was put before reading: an empty answer is the shard's tip.
        if (records.length === 0) break;
        iterator = out.NextShardIterator;
      }
    }),
  );
  kinesis.destroy();
  ledger.assertComplete('the bare loop');

  return {
    ...drainFigures(probe, input.records, ledger),
    get_records_calls: requests.count('GetRecords'),
    max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
  };
});
