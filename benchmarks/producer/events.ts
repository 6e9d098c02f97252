/**
 * The events of `pnpm bench producer`, shared by its contender processes: the harness's sample events
 * (`sampleEvents`), as the objects an application hands the producer; and the figures every contender
 * reports.
 */
import { type Span, sampleEvents } from '../harness/index.js';

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
 * The figures every contender of `pnpm bench producer` reports from its measured span (`start` →
 * `end`): records and requests per second, client CPU per record and as a share of one core.
 */
export function loadFigures(
  span: Span,
  records: number,
  requests: number,
): { records_per_s: number; requests_per_s: number; cpu_us_per_record: number; client_cpu_percent: number } {
  const { wallMs, cpuUs } = span;
  return {
    records_per_s: records / (wallMs / 1000),
    requests_per_s: requests / (wallMs / 1000),
    cpu_us_per_record: cpuUs / records,
    client_cpu_percent: (100 * cpuUs) / 1000 / wallMs,
  };
}
