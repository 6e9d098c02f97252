import type { KinesisRecord } from '@shardline/consumer-core';
import { BigIntegerMode, checkEnvelope, decodeEnvelope } from '@shardline/ingest';
import { createTimestampRenderer, ErrorOutputType, type KeyTemplate } from '../keys/KeyTemplate.js';
import { type EnvelopeQuery, evaluateEnvelopeQuery, selectEnvelopeValue } from './EnvelopeQuery.js';
import { parseEventTime, type TimeFieldFormat } from './eventTime.js';
import { jsonDepth, MAX_DATA_DEPTH } from './jsonDepth.js';

/** What goes into an object for each record. */
export const RecordContent = {
  /** The Kinesis record's data as it arrived (the whole event envelope). */
  Envelope: 'envelope',
  /** Only the envelope's `data`, as its exact JSON text. */
  Data: 'data',
} as const;
/** See {@link RecordContent}. */
export type RecordContent = (typeof RecordContent)[keyof typeof RecordContent];

/** What happens to a record that is not an event envelope (not JSON, or JSON of another shape). */
export const InvalidRecordPolicy = {
  /** Written to the error output (`processing-failed`) with the reason. */
  ErrorOutput: 'error-output',
  /** Archived as it is, like any record (it still fails dynamic partitioning: error output). */
  Archive: 'archive',
} as const;
/** See {@link InvalidRecordPolicy}. */
export type InvalidRecordPolicy = (typeof InvalidRecordPolicy)[keyof typeof InvalidRecordPolicy];

/** A record routed to a data object. */
export interface DataRoute {
  /** A data object. */
  readonly kind: 'data';
  /**
   * The bytes written for it (without the delimiter); `undefined`: the record's data as it arrived
   * (see {@link routedBytes}), so that such records can share one route object.
   */
  readonly bytes: Uint8Array | undefined;
  /** Partition key values (empty without dynamic partitioning). */
  readonly partitionValues: Readonly<Record<string, string>>;
  /**
   * One string per distinct partition (`''` without dynamic partitioning); with event-time partitioning
   * it includes the record's rendered prefix time, so each object holds one time bucket.
   */
  readonly partitionId: string;
  /**
   * With event-time partitioning: an event time (ms) whose prefix time is the record's (the record's
   * own, or that of a record before it in the same bucket): the time its object's key is rendered from.
   */
  readonly timestampMs?: number;
}

/** A record routed to the error output. */
export interface ErrorRoute {
  /** The error output. */
  readonly kind: 'error';
  /** Why: the error prefix's `!{firehose:error-output-type}`. */
  readonly errorOutputType: ErrorOutputType;
  /** One JSON line describing the failure, with the record's data in base64. */
  readonly bytes: Uint8Array;
  /** Short reason, as in the line's `errorMessage`. */
  readonly reason: string;
  /** `!error:<errorOutputType>`: one error object per type and range. */
  readonly partitionId: string;
}

/** A record a transform dropped: in no object, but in its range (the checkpoint passes it). */
export interface DroppedRoute {
  readonly kind: 'dropped';
  readonly bytes: undefined;
  readonly partitionId: '!dropped';
}

/** The route of every dropped record (one shared, frozen object). */
export const DROPPED: DroppedRoute = Object.freeze({
  kind: 'dropped',
  bytes: undefined,
  partitionId: '!dropped',
});

/** Where a record goes. */
export type RecordRoute = DataRoute | ErrorRoute | DroppedRoute;

/** The bytes written for `record` routed by `route` (without the delimiter). */
export function routedBytes(record: KinesisRecord, route: RecordRoute): Uint8Array {
  return route.bytes ?? record.data;
}

/** Settings of {@link createRecordRouter}. */
export interface RecordRouterSettings {
  readonly recordContent: RecordContent;
  readonly invalidRecordPolicy: InvalidRecordPolicy;
  /** Queries by partition key name (empty: no dynamic partitioning). */
  readonly partitionQueries: ReadonlyMap<string, EnvelopeQuery>;
  /** Event-time partitioning; `undefined`: keys take the arrival time of each object's oldest record. */
  readonly eventTime?: EventTimeSettings;
}

/** Where a record's event time is and how it names the record's prefix. */
export interface EventTimeSettings {
  /** The field holding the time. */
  readonly query: EnvelopeQuery;
  readonly format: TimeFieldFormat;
  /** The data prefix: records whose times render its `!{timestamp:...}` the same share an object. */
  readonly prefix: KeyTemplate;
  /** IANA time zone of the prefix. */
  readonly timeZone: string;
}

/** Characters a partition value may not hold: it becomes part of an S3 key. */
function isUnsafeValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2f /* / */ || c === 0x5c /* \ */) return true;
  }
  return value === '.' || value === '..';
}
const MAX_VALUE_LENGTH = 256;
/** The partition values of every record without dynamic partitioning: one shared, frozen object. */
const NO_PARTITION_VALUES: Readonly<Record<string, string>> = Object.freeze({});
/**
 * The route of every record written as it arrived without dynamic partitioning: one shared, frozen
 * object instead of one per record (most records of a busy stream take this route).
 */
const AS_ARRIVED: DataRoute = Object.freeze({
  kind: 'data',
  bytes: undefined,
  partitionValues: NO_PARTITION_VALUES,
  partitionId: '',
});

/**
 * Makes the router: a pure function from a record to its destination. The same record always gets the
 * same route, so a replayed range produces the same objects.
 */
export function createRecordRouter(settings: RecordRouterSettings): (record: KinesisRecord) => RecordRoute {
  const { eventTime } = settings;
  const isPartitioned = settings.partitionQueries.size > 0 || eventTime !== undefined;
  const timeText = eventTime ? createTimestampRenderer(eventTime.prefix, eventTime.timeZone) : undefined;
  // Event time without partition keys: consecutive records of one bucket share their route object.
  let lastTimeRoute: DataRoute | undefined;
  let lastTimeText: string | undefined;
  const mustDecode =
    isPartitioned ||
    settings.recordContent === RecordContent.Data ||
    settings.invalidRecordPolicy === InvalidRecordPolicy.ErrorOutput;
  // Only whether the record is an envelope matters: checked without making its strings or objects.
  const mustOnlyCheck = !isPartitioned && settings.recordContent === RecordContent.Envelope;
  const route = (record: KinesisRecord): RecordRoute => {
    if (!mustDecode) return AS_ARRIVED;
    let envelope: ReturnType<typeof decodeEnvelope> | undefined;
    try {
      if (mustOnlyCheck) checkEnvelope(record.data);
      else envelope = decodeEnvelope(record.data, { integers: BigIntegerMode.String });
    } catch (error) {
      // The codec's own errors already say "Not an event envelope: …"; others (a RangeError) do not.
      const message = (error as Error).message;
      const reason = message.startsWith('Not an event envelope')
        ? message
        : `Not an event envelope: ${message}`;
      if (settings.invalidRecordPolicy === InvalidRecordPolicy.ErrorOutput) {
        return errorRoute(record, ErrorOutputType.ProcessingFailed, 'EnvelopeDecodeError', reason);
      }
      if (isPartitioned) {
        return errorRoute(record, ErrorOutputType.PartitioningFailed, 'PartitioningFailed', reason);
      }
      return AS_ARRIVED;
    }
    if (envelope === undefined) return AS_ARRIVED;
    const decoded = envelope;
    if (!isPartitioned) {
      return {
        kind: 'data',
        bytes: decoded.dataBytes,
        partitionValues: NO_PARTITION_VALUES,
        partitionId: '',
      };
    }
    const partitionValues: Record<string, string> = {};
    let data: { value: unknown } | undefined;
    const input = {
      eventId: decoded.eventId,
      receivedAt: decoded.receivedAt,
      partitionKey: record.partitionKey,
      data: () => {
        if (data === undefined) {
          const depth = jsonDepth(decoded.dataBytes);
          if (depth > MAX_DATA_DEPTH) {
            throw new RangeError(
              `data is nested ${depth} levels deep, over the ${MAX_DATA_DEPTH} of the event contract`,
            );
          }
          data = { value: decoded.data };
        }
        return data.value;
      },
    };
    for (const [name, query] of settings.partitionQueries) {
      let value: ReturnType<typeof evaluateEnvelopeQuery>;
      try {
        value = evaluateEnvelopeQuery(query, input);
      } catch (error) {
        // `data` is parsed on first use, recursively: JSON nested deeper than the parser's stack
        // allows throws a RangeError here, though the envelope's scan accepted it.
        return errorRoute(
          record,
          ErrorOutputType.PartitioningFailed,
          'PartitioningFailed',
          `partition key ${name}: data cannot be parsed: ${describeError(error)}`,
        );
      }
      const problem =
        typeof value !== 'string'
          ? value.error
          : value.length === 0
            ? `${query.source} is empty`
            : value.length > MAX_VALUE_LENGTH
              ? `${query.source} is longer than ${MAX_VALUE_LENGTH} characters`
              : isUnsafeValue(value)
                ? `${query.source} = ${JSON.stringify(value)} cannot be part of a key ("/", "\\", control characters, "." and ".." are refused)`
                : undefined;
      if (problem !== undefined || typeof value !== 'string') {
        return errorRoute(
          record,
          ErrorOutputType.PartitioningFailed,
          'PartitioningFailed',
          `partition key ${name}: ${problem}`,
        );
      }
      partitionValues[name] = value;
    }
    const bytes = settings.recordContent === RecordContent.Data ? decoded.dataBytes : undefined;
    if (eventTime === undefined || timeText === undefined) {
      return {
        kind: 'data',
        bytes,
        partitionValues,
        partitionId: JSON.stringify(Object.values(partitionValues)),
      };
    }
    let time: ReturnType<typeof selectEnvelopeValue>;
    try {
      time = selectEnvelopeValue(eventTime.query, input);
    } catch (error) {
      // As for the partition keys: `data` deeper than the parser's stack throws a RangeError here.
      time = { error: `${eventTime.query.source}: data cannot be parsed: ${describeError(error)}` };
    }
    const timestampMs = 'error' in time ? time : parseEventTime(time.value, eventTime.format);
    if (typeof timestampMs !== 'number') {
      return errorRoute(
        record,
        ErrorOutputType.PartitioningFailed,
        'PartitioningFailed',
        'error' in time
          ? `time field ${time.error}`
          : `time field ${eventTime.query.source}: ${timestampMs.error}`,
      );
    }
    const text = timeText(timestampMs);
    if (settings.partitionQueries.size === 0) {
      if (bytes === undefined && text === lastTimeText && lastTimeRoute) return lastTimeRoute;
      const shared: DataRoute = {
        kind: 'data',
        bytes,
        partitionValues: NO_PARTITION_VALUES,
        partitionId: JSON.stringify([text]),
        timestampMs,
      };
      if (bytes === undefined) {
        lastTimeRoute = shared;
        lastTimeText = text;
      }
      return shared;
    }
    return {
      kind: 'data',
      bytes,
      partitionValues,
      partitionId: JSON.stringify([...Object.values(partitionValues), text]),
      timestampMs,
    };
  };
  return (record) => {
    try {
      return route(record);
    } catch (error) {
      // A record the router cannot handle is a problem of that record, never a reason to stop the
      // shard: the same bytes would fail again on every owner. Routing is pure, so a replay of the
      // record lands in the same error object.
      return errorRoute(
        record,
        ErrorOutputType.ProcessingFailed,
        'ProcessingFailed',
        `the record could not be routed: ${describeError(error)}`,
      );
    }
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const encoder = new TextEncoder();

/**
 * The route of a record to the error output: one JSON line with the reason, the record's position and
 * its data in base64 (no processing time: a replayed record gives the same bytes).
 */
export function errorRoute(
  record: KinesisRecord,
  errorOutputType: ErrorOutputType,
  errorCode: string,
  reason: string,
): ErrorRoute {
  // No processing time in the line: a replayed record must produce the same bytes.
  const line = JSON.stringify({
    errorCode,
    errorMessage: reason,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: record.subSequenceNumber,
    partitionKey: record.partitionKey,
    arrivalTimestamp: record.approximateArrivalTimestamp.toISOString(),
    rawData: Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength).toString(
      'base64',
    ),
  });
  return {
    kind: 'error',
    errorOutputType,
    bytes: encoder.encode(line),
    reason,
    partitionId: `!error:${errorOutputType}`,
  };
}
