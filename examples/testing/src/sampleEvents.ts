import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeEnvelope } from '@shardline/ingest';
import type { LocalTwinClient } from '@shardline/local';
import { putRecords } from '@shardline/test-kit';

const sample = fileURLToPath(new URL('../../../data/ecommerce-events-2019-10-sample.csv', import.meta.url));

/** A sample event as the examples see it in `data`. */
export interface SampleEvent {
  readonly eventId: string;
  readonly data: Record<string, string>;
}

/** The first `count` rows of the e-commerce sample (its rows have no quoted fields), as events. */
export function sampleEvents(count: number): SampleEvent[] {
  const [header, ...rows] = readFileSync(sample, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  return rows.slice(0, count).map((row, i) => {
    const values = row.split(',');
    return {
      eventId: `sample-${i}`,
      data: Object.fromEntries(columns.map((column, c) => [column, values[c] ?? ''])),
    };
  });
}

/**
 * Writes events in the ingest envelope, partitioned by session, 500 per call (`putRecords` of the test
 * kit). A failed entry fails the test: nothing is sent again.
 */
export async function putEvents(
  local: LocalTwinClient,
  streamName: string,
  events: readonly SampleEvent[],
): Promise<void> {
  const entries = events.map((e) => ({
    partitionKey: e.data.user_session || e.eventId,
    data: encodeEnvelope({ eventId: e.eventId, data: e.data }),
  }));
  await putRecords(local.kinesis, streamName, entries, 0);
}
