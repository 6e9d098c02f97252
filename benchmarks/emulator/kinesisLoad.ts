/**
 * Contender process of `pnpm bench emulator`: puts `records` sample events into a stream in full
 * 500-record PutRecords calls, then reads them all back with GetShardIterator + GetRecords, one loop per
 * shard, and reports rates, sizes and per-call latencies.
 */
import { GetRecordsCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import {
  countRequests,
  LatencyRecorder,
  putEvents,
  runContender,
  sampleEvents,
  trimHorizonIterator,
  warmConnection,
} from '../harness/index.js';

/** Input of this contender. */
export interface KinesisLoadInput {
  readonly info: LocalTwinInfo;
  readonly streamName: string;
  readonly shardIds: readonly string[];
  readonly records: number;
  /** PutRecords calls in flight at once. */
  readonly putConcurrency: number;
}

const MIB = 1024 * 1024;

runContender<KinesisLoadInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const requests = countRequests(kinesis);
  const events = sampleEvents(input.records);
  const putBytes = events.reduce((sum, e) => sum + e.data.byteLength + Buffer.byteLength(e.partitionKey), 0);

  // Warm the connection and the code paths outside the measured span.
  await warmConnection(kinesis, input.streamName, input.shardIds[0]);

  const putLatency = new LatencyRecorder();
  probe.mark('put-start');
  const { resentRecords } = await putEvents(kinesis, {
    streamName: input.streamName,
    events,
    concurrency: input.putConcurrency,
    latency: putLatency,
    signal: probe.signal,
  });
  probe.mark('put-end');

  const getLatency = new LatencyRecorder();
  let gotRecords = 0;
  let gotBytes = 0;
  probe.mark('get-start');
  await Promise.all(
    input.shardIds.map(async (shardId) => {
      let iterator = await trimHorizonIterator(kinesis, input.streamName, shardId);
      while (iterator) {
        probe.signal.throwIfAborted();
        const current = iterator;
        const out = await getLatency.time(() =>
          kinesis.send(new GetRecordsCommand({ ShardIterator: current, Limit: 10_000 })),
        );
        const records = out.Records ?? [];
        for (const r of records)
          gotBytes += (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? '');
        gotRecords += records.length;
        // Everything was put before reading: the first empty answer is the shard's tip. The total is
        // checked below against what was put.
        if (records.length === 0) break;
        iterator = out.NextShardIterator;
      }
    }),
  );
  probe.mark('get-end');
  kinesis.destroy();

  if (gotRecords !== input.records) {
    throw new Error(`read ${gotRecords} records back, put ${input.records}`);
  }
  // The request counter is what later benchmarks check rate limits with: keep it honest here.
  if (requests.count('GetRecords') !== getLatency.count) {
    throw new Error(`counted ${requests.count('GetRecords')} GetRecords calls, made ${getLatency.count}`);
  }
  const shardsSeen = new Set(
    requests.requests.filter((r) => r.command === 'GetRecords').map((r) => r.shardId),
  );
  if (shardsSeen.size !== input.shardIds.length || shardsSeen.has(undefined)) {
    throw new Error(
      `the request counter followed GetRecords to ${shardsSeen.size} shards, not ${input.shardIds.length}`,
    );
  }
  const put = probe.between('put-start', 'put-end');
  const get = probe.between('get-start', 'get-end');
  return {
    put_records_per_s: input.records / (put.wallMs / 1000),
    put_mib_per_s: putBytes / MIB / (put.wallMs / 1000),
    put_latency_p50_ms: putLatency.percentileMs(50),
    put_latency_p99_ms: putLatency.percentileMs(99),
    put_client_cpu_us_per_record: put.cpuUs / input.records,
    put_resent_records: resentRecords,
    get_records_per_s: gotRecords / (get.wallMs / 1000),
    get_mib_per_s: gotBytes / MIB / (get.wallMs / 1000),
    get_latency_p50_ms: getLatency.percentileMs(50),
    get_client_cpu_us_per_record: get.cpuUs / gotRecords,
    get_calls: getLatency.count,
    max_get_records_per_shard_s: requests.maxPerShardPerSecond('GetRecords'),
    record_bytes: putBytes / input.records,
  };
});
