/**
 * Latency baseline of `pnpm bench consumer` (its own process): lifion-kinesis 1.3.3 with its default
 * polling (`pollDelay` 250 ms after a read with records, `noRecordsPollDelay` 1,000 ms after an empty
 * one) reads a live stream while the parent puts 50 records/s; reports like `shardlineLatency.ts`.
 */
import { runContender } from '../harness/index.js';
import { createLifionConsumer, onLifionRequest } from './lifion.js';
import { EventLedger, eventIndex, type LatencyInput, latencySpan, receiveBatch } from './shared.js';

runContender<LatencyInput>(async (input, probe) => {
  const ledger = new EventLedger(input.records);
  const iteratorShards = new Set<string>();
  let getRecordsCalls = 0;
  onLifionRequest((operation, params) => {
    if (operation === 'getShardIterator' && typeof params.ShardId === 'string')
      iteratorShards.add(params.ShardId);
    if (operation === 'getRecords') getRecordsCalls++;
  });

  const consumer = createLifionConsumer(input.info, input.streamName, input.tableName);
  let failure: Error | undefined;
  consumer.on('error', (error) => {
    failure ??= error;
  });
  consumer.on('data', ({ records }) => {
    receiveBatch(probe, ledger, records, (record) => eventIndex(record.data as { event_id: string }));
  });
  await consumer.startConsumer();
  await latencySpan(
    probe,
    ledger,
    {
      what: 'a GetRecords call on every shard',
      holds: () => iteratorShards.size >= input.shardIds.length && getRecordsCalls >= input.shardIds.length,
    },
    // lifion reports read failures on its stream: fail the run rather than wait for records that never come.
    () => {
      if (failure) throw failure;
    },
  );
  consumer.stopConsumer();

  const { wallMs } = probe.between('ready', 'end');
  return {
    get_records_per_shard_s: getRecordsCalls / input.shardIds.length / (wallMs / 1000),
    duplicates: ledger.duplicates,
  };
});
