import type { KinesisRecord } from '@shardline/consumer-core';
import { ErrorOutputType } from '../keys/KeyTemplate.js';
import { type DataRoute, DROPPED, errorRoute, type RecordRoute } from './RecordRouter.js';

/** The `result` of a {@link TransformResult}: Firehose's data-transformation (Lambda) result names. */
export const TransformResultType = {
  /** Archive the record with the returned `data` instead of its own. */
  Ok: 'Ok',
  /** Archive nothing for the record: it is counted (`recordsDropped`) and passed by the checkpoint. */
  Dropped: 'Dropped',
  /** The record goes to the error output (`processing-failed`) with the reason. */
  ProcessingFailed: 'ProcessingFailed',
} as const;
/** See {@link TransformResultType}. */
export type TransformResultType = (typeof TransformResultType)[keyof typeof TransformResultType];

/**
 * What a transform returns for one record: Firehose's Lambda result shape, one record at a time (so no
 * `recordId`). Unlike Lambda's answer, `data` is bytes or text, never base64: a string is written as its
 * UTF-8 bytes.
 */
export type TransformResult =
  | { readonly result: 'Ok'; readonly data: Uint8Array | string }
  | { readonly result: 'Dropped' }
  | { readonly result: 'ProcessingFailed'; readonly reason?: string };

/**
 * A record transformation (Firehose's data transformation, in process).
 *
 * `transform` receives the Kinesis record as read, `data` being the bytes on the stream (for records
 * the Shardline ingest gateway wrote: the whole event envelope `{eventId, receivedAt, data}`, which is
 * what a Firehose Lambda reading the same stream receives) and the shard's id. Its `Ok` data replaces
 * the record's data for everything after it, as if it had arrived so: the envelope check
 * (`invalidRecordPolicy`), `recordContent` and the partition queries apply to the new bytes (Firehose
 * also partitions the transformed data). So a transform that keeps the envelope returns an envelope;
 * one that returns other bytes sets `invalidRecordPolicy: 'archive'` (and no partition keys), or its
 * records go to the error output.
 *
 * **It must be pure** — the same record gives the same result, always (no clock, no randomness, no
 * lookups that can change): exactly-once objects rest on a range redone after a crash giving the same
 * objects. Change its behaviour only with a new `version`: the sink records a fingerprint of `version`,
 * the format options and the time-zone database with every range it prepares, and reports a redo that
 * finds another fingerprint (`REDO_SETTINGS_CHANGED`); the redo then proceeds with today's transform.
 *
 * It may return a promise; records are still transformed one at a time, in shard order (a synchronous
 * transform is called without any `await`). A transform that throws, rejects, or returns anything else
 * than a {@link TransformResult} sends the record to the error output (`processing-failed`, error code
 * `Transform.FunctionError`), like `ProcessingFailed` (error code `Transform.ProcessingFailed`). The
 * error line's `rawData` is then the record's data as read (and the transformed data when that data
 * fails the envelope check or a partition query afterwards).
 */
export interface RecordTransform {
  /**
   * Names the transform's behaviour (e.g. `'2026-12-01'`, a git commit, a semver): change it whenever
   * its output for a record may change. Recorded (in a fingerprint) with each prepared range.
   */
  readonly version: string;
  /**
   * Transforms one record (the Kinesis record as read, and its shard's id). Pure. Returns a result, or a
   * promise of one; throwing or rejecting sends the record to `processing-failed`.
   */
  readonly transform: (record: KinesisRecord, shardId: string) => TransformResult | Promise<TransformResult>;
}

/** A route, or (only for a transform that returned a promise) its promise. */
export type RouteResult = RecordRoute | Promise<RecordRoute>;

const encoder = new TextEncoder();

/**
 * Puts `transform` before `route`: a record's route is that of its transformed data, or the error output,
 * or {@link DROPPED}. Synchronous for a synchronous transform.
 */
export function transformThenRoute(
  transform: RecordTransform,
  route: (record: KinesisRecord) => RecordRoute,
): (record: KinesisRecord, shardId: string) => RouteResult {
  const apply = (record: KinesisRecord, result: unknown): RecordRoute => {
    const r = result as Partial<{ result: unknown; data: unknown; reason: unknown }> | null | undefined;
    switch (r?.result) {
      case TransformResultType.Ok: {
        const data =
          typeof r.data === 'string'
            ? encoder.encode(r.data)
            : r.data instanceof Uint8Array
              ? r.data
              : undefined;
        if (data === undefined) {
          return failed(
            record,
            'Transform.FunctionError',
            'the transform returned Ok without data (bytes or a string)',
          );
        }
        const routed = route({ ...record, data });
        // The bytes written are the transformed data (the route's own bytes, or the data itself); the
        // range keeps the record as read (its input bytes, its error-output rawData).
        if (routed.kind === 'data' && routed.bytes === undefined) {
          return { ...routed, bytes: data } satisfies DataRoute;
        }
        return routed;
      }
      case TransformResultType.Dropped:
        return DROPPED;
      case TransformResultType.ProcessingFailed:
        return failed(
          record,
          'Transform.ProcessingFailed',
          typeof r.reason === 'string' && r.reason.length > 0
            ? r.reason
            : 'the transform returned ProcessingFailed',
        );
      default:
        return failed(
          record,
          'Transform.FunctionError',
          `the transform returned ${describeValue(result)}, not { result: 'Ok' | 'Dropped' | 'ProcessingFailed' }`,
        );
    }
  };
  return (record, shardId) => {
    let result: TransformResult | Promise<TransformResult>;
    try {
      result = transform.transform(record, shardId);
    } catch (error) {
      return failed(record, 'Transform.FunctionError', `the transform failed: ${describeError(error)}`);
    }
    if (typeof (result as { then?: unknown } | null)?.then === 'function') {
      return Promise.resolve(result).then(
        (value) => apply(record, value),
        (error: unknown) =>
          failed(record, 'Transform.FunctionError', `the transform failed: ${describeError(error)}`),
      );
    }
    return apply(record, result);
  };
}

function failed(record: KinesisRecord, errorCode: string, reason: string): RecordRoute {
  return errorRoute(record, ErrorOutputType.ProcessingFailed, errorCode, reason);
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value)?.slice(0, 100) ?? typeof value;
  } catch {
    return typeof value;
  }
}
