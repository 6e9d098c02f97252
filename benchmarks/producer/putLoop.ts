/**
 * Contender process of `pnpm bench producer`: the two loops the producer is held against, fed the same
 * sample events as objects as the producer (`appEvents`), and sending the very records the producer
 * stores: the ingest envelope `{"eventId","receivedAt","data"}`.
 *
 * - `bare`: full 500-record PutRecords calls, `concurrency` calls in flight; each record's envelope is
 *   built inside the measured span with one plain `JSON.stringify` (a fresh `receivedAt` per record)
 *   and encoded to UTF-8, as the least an application writing to Kinesis itself must do. It does no
 *   validation, no buffering, no bookkeeping: the floor the producer is held against.
 * - `naive`: one PutRecord call per event (envelope built the same way), awaited before the next, as a
 *   naive replay program does.
 */
import { Buffer } from 'node:buffer';
import {
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { kinesisClientConfig, type LocalTwinInfo } from '@shardline/local';
import { countRequests, LatencyRecorder, runContender, warmConnection } from '../harness/index.js';
import { type AppEvent, appEvents, loadFigures } from './events.js';

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

/** PutRecords: at most 500 records per call. */
const MAX_RECORDS_PER_CALL = 500;
/** Resends of a call's failed entries before the loop gives up. */
const MAX_RESENDS = 10;

/** The ingest envelope of one event, built the plain way. */
function envelope(event: AppEvent): Buffer {
  return Buffer.from(
    JSON.stringify({ eventId: event.eventId, receivedAt: new Date().toISOString(), data: event.data }),
    'utf8',
  );
}

runContender<PutLoopInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const requests = countRequests(kinesis);
  const events = appEvents(input.records);
  // Warm the connection and the SDK's code paths outside the measured span.
  await warmConnection(kinesis, input.streamName, input.shardIds[0]);
  const latency = new LatencyRecorder();
  let resentRecords = 0;
  let recordBytes = 0;
  probe.mark('start');
  probe.emit('start');
  if (input.loop === 'bare') {
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        probe.signal.throwIfAborted();
        const end = Math.min(next + MAX_RECORDS_PER_CALL, events.length);
        let entries: PutRecordsRequestEntry[] = [];
        for (; next < end; next++) {
          const event = events[next]!;
          const data = envelope(event);
          recordBytes += data.byteLength;
          entries.push({ Data: data, PartitionKey: event.partitionKey });
        }
        for (let attempt = 0; ; attempt++) {
          const call = entries;
          const out = await latency.time(() =>
            kinesis.send(new PutRecordsCommand({ StreamName: input.streamName, Records: call })),
          );
          if (!out.FailedRecordCount) break;
          if (attempt >= MAX_RESENDS) {
            throw new Error(`${out.FailedRecordCount} records still failed after ${MAX_RESENDS} resends`);
          }
          // A PutRecords answer is per entry, in order: resend only the failed ones.
          entries = call.filter((_, i) => out.Records?.[i]?.ErrorCode);
          resentRecords += entries.length;
        }
      }
    };
    await Promise.all(Array.from({ length: input.concurrency }, worker));
  } else {
    for (const event of events) {
      probe.signal.throwIfAborted();
      const data = envelope(event);
      recordBytes += data.byteLength;
      await latency.time(() =>
        kinesis.send(
          new PutRecordCommand({
            StreamName: input.streamName,
            Data: data,
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
  return {
    ...loadFigures(probe.between('start', 'end'), input.records, calls),
    latency_p50_ms: latency.percentileMs(50),
    resent_records: resentRecords,
    record_bytes: recordBytes / input.records,
  };
});
