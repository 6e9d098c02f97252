/**
 * Contender process of `pnpm bench producer`: the two loops the producer is held against, sending the
 * very records the producer stores (the ingest envelope, see `envelopeEvents`).
 *
 * - `bare`: full 500-record PutRecords calls (the harness's `putEvents`), `concurrency` calls in flight:
 *   the fastest way in, without the producer's work (JSON encoding, envelope, batching, bookkeeping).
 * - `naive`: one PutRecord call per event, awaited before the next, as a naive replay program does.
 */
import { GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { countRequests, LatencyRecorder, putEvents, runContender } from '../harness/index.js';
import { envelopeEvents } from './events.js';

/** Input of this contender. */
export interface PutLoopInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  readonly records: number;
  readonly loop: 'bare' | 'naive';
  /** PutRecords calls in flight at once (`bare` only). */
  readonly concurrency: number;
}

runContender<PutLoopInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const requests = countRequests(kinesis);
  const events = envelopeEvents(input.records);
  // Warm the connection and the SDK's code paths outside the measured span.
  await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: input.streamName,
      ShardId: input.shardIds[0],
      ShardIteratorType: 'LATEST',
    }),
  );
  const latency = new LatencyRecorder();
  let resentRecords = 0;
  probe.mark('start');
  probe.emit('start');
  if (input.loop === 'bare') {
    ({ resentRecords } = await putEvents(kinesis, {
      streamName: input.streamName,
      events,
      concurrency: input.concurrency,
      latency,
      signal: probe.signal,
    }));
  } else {
    for (const event of events) {
      probe.signal.throwIfAborted();
      await latency.time(() =>
        kinesis.send(
          new PutRecordCommand({
            StreamName: input.streamName,
            Data: event.data,
            PartitionKey: event.partitionKey,
          }),
        ),
      );
    }
  }
  probe.mark('end');
  probe.emit('end');
  kinesis.destroy();
  const command = input.loop === 'bare' ? 'PutRecords' : 'PutRecord';
  const calls = requests.count(command);
  if (calls !== latency.count) throw new Error(`counted ${calls} ${command} calls, made ${latency.count}`);
  const { wallMs, cpuUs } = probe.between('start', 'end');
  return {
    records_per_s: input.records / (wallMs / 1000),
    requests_per_s: calls / (wallMs / 1000),
    cpu_us_per_record: cpuUs / input.records,
    client_cpu_percent: (100 * cpuUs) / 1000 / wallMs,
    latency_p50_ms: latency.percentileMs(50),
    resent_records: resentRecords,
    record_bytes: events.reduce((sum, e) => sum + e.data.byteLength, 0) / input.records,
  };
});
