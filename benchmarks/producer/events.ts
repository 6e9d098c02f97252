/**
 * The events of `pnpm bench producer`, shared by its contender processes: the harness's sample events
 * (`sampleEvents`), as the objects an application hands the producer.
 */
import { sampleEvents } from '../harness/index.js';

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
