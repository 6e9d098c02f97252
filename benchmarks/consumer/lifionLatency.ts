/**
 * Latency baseline of `pnpm bench consumer` (its own process): lifion-kinesis 1.3.3 with its default
 * polling (`pollDelay` 250 ms after a read with records, `noRecordsPollDelay` 1,000 ms after an empty
 * one) reads a live stream while the parent puts 50 records/s; reports like `shardlineLatency.ts`.
 */
import { monotonicNowMs, runContender } from '../harness/index.js';
import { createLifionConsumer, onLifionRequest } from './lifion.js';
import {
  EventLedger,
  eventIndex,
  type LatencyInput,
  READY_EVENT,
  RECEIVED_EVENT,
  type ReceivedEvent,
} from './shared.js';
import { waitFor } from './waitFor.js';

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
    const atMs = monotonicNowMs();
    const indexes = records.map((record) => eventIndex(record.data as { event_id: string }));
    for (const index of indexes) ledger.see(index);
    probe.emit(RECEIVED_EVENT, { indexes, atMs } satisfies ReceivedEvent);
  });
  await consumer.startConsumer();
  // lifion reports read failures on its stream: fail the run rather than wait for records that never come.
  const unlessFailed = (condition: () => boolean) => () => {
    if (failure) throw failure;
    return condition();
  };
  await waitFor(
    'a GetRecords call on every shard',
    unlessFailed(
      () => iteratorShards.size >= input.shardIds.length && getRecordsCalls >= input.shardIds.length,
    ),
    probe.signal,
  );
  probe.mark('ready');
  probe.emit(READY_EVENT);
  await waitFor(
    'every event put',
    unlessFailed(() => ledger.complete),
    probe.signal,
    600_000,
  );
  probe.mark('end');
  consumer.stopConsumer();

  const { wallMs } = probe.between('ready', 'end');
  return {
    get_records_per_shard_s: getRecordsCalls / input.shardIds.length / (wallMs / 1000),
    duplicates: ledger.duplicates,
  };
});
