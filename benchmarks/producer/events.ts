/**
 * The events of `pnpm bench producer`, shared by its contender processes: the harness's sample events
 * (`sampleEvents`), as the objects an application hands the producer and as the exact records the
 * producer stores, so that every contender sends the same bytes to Kinesis.
 */
import { type SampleEvent, sampleEvents } from '../harness/index.js';

/** One event as an application has it: a JS object, its id and its partition key. */
export interface AppEvent {
  readonly eventId: string;
  readonly partitionKey: string;
  readonly data: unknown;
}

/** `count` sample events as objects (`event_id` becomes the event id, the user session the key). */
export function appEvents(count: number): AppEvent[] {
  const decoder = new TextDecoder();
  return sampleEvents(count).map((e) => {
    const data = JSON.parse(decoder.decode(e.data)) as { event_id: string };
    return { eventId: data.event_id, partitionKey: e.partitionKey, data };
  });
}

/**
 * `count` sample events as the records the producer and the ingest gateway store: the ingest envelope
 * `{"eventId","receivedAt","data"}` (its byte layout, with a fixed `receivedAt` of the same length as
 * a real one). The bare PutRecords loop and the naive loop send these, so their requests carry exactly
 * the bytes the producer's do; building them is outside their measured span.
 */
export function envelopeEvents(count: number): SampleEvent[] {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const receivedAt = new Date().toISOString();
  return sampleEvents(count).map((e) => {
    const json = decoder.decode(e.data);
    const eventId = (JSON.parse(json) as { event_id: string }).event_id;
    return {
      partitionKey: e.partitionKey,
      data: encoder.encode(
        `{"eventId":${JSON.stringify(eventId)},"receivedAt":"${receivedAt}","data":${json}}`,
      ),
    };
  });
}
