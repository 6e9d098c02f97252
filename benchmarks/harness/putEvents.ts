import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { LatencyRecorder } from './latency.js';
import type { SampleEvent } from './sampleEvents.js';

/** PutRecords: at most 500 records per call. */
export const PUT_RECORDS_MAX_RECORDS = 500;

/** Options of {@link putEvents}. */
export interface PutEventsOptions {
  readonly streamName: string;
  readonly events: readonly SampleEvent[];
  /**
   * PutRecords calls in flight at once.
   * @defaultValue 1
   */
  readonly concurrency?: number;
  /** Records the latency of every PutRecords call. */
  readonly latency?: LatencyRecorder;
  readonly signal?: AbortSignal;
  /**
   * How many times a batch's failed entries are resent before giving up.
   * @defaultValue 10
   */
  readonly maxResends?: number;
}

/** What {@link putEvents} did. */
export interface PutEventsResult {
  readonly calls: number;
  /** Entries that an answer reported failed and that were sent again. */
  readonly resentRecords: number;
}

/**
 * Puts events in full 500-record PutRecords calls (the fastest way in; also how benchmarks pre-load a
 * stream), resending only the entries an answer reports as failed.
 *
 * @throws Error when a batch still has failed entries after `maxResends`, or the SDK's error.
 */
export async function putEvents(kinesis: KinesisClient, options: PutEventsOptions): Promise<PutEventsResult> {
  const { streamName, events, latency, signal } = options;
  const maxResends = options.maxResends ?? 10;
  const batches: PutRecordsRequestEntry[][] = [];
  for (let i = 0; i < events.length; i += PUT_RECORDS_MAX_RECORDS) {
    batches.push(
      events
        .slice(i, i + PUT_RECORDS_MAX_RECORDS)
        .map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
    );
  }
  let next = 0;
  let calls = 0;
  let resentRecords = 0;
  const send = (entries: PutRecordsRequestEntry[]) => {
    calls++;
    const call = () => kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    return latency ? latency.time(call) : call();
  };
  const worker = async () => {
    while (next < batches.length) {
      signal?.throwIfAborted();
      let entries = batches[next++]!;
      for (let attempt = 0; ; attempt++) {
        const out = await send(entries);
        if (!out.FailedRecordCount) break;
        if (attempt >= maxResends) {
          throw new Error(`${out.FailedRecordCount} records still failed after ${maxResends} resends`);
        }
        // A PutRecords answer is per entry, in order: resend only the failed ones.
        entries = entries.filter((_, i) => out.Records?.[i]?.ErrorCode);
        resentRecords += entries.length;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return { calls, resentRecords };
}
