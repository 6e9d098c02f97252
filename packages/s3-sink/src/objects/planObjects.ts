import { createHash } from 'node:crypto';
import type { ExtendedSequenceNumber, KinesisRecord } from '@shardline/consumer-core';
import {
  type ErrorOutputType,
  type KeyTemplate,
  objectFileName,
  renderKeyTemplate,
} from '../keys/KeyTemplate.js';
import type { RecordRoute } from '../routing/RecordRouter.js';
import {
  jsonLinesFormat,
  type ObjectBody,
  type RecordFormat,
  RecordFormatName,
} from './formats/RecordFormat.js';

/** A contiguous run of one shard's records, closed and about to become objects. */
export interface SealedRange {
  readonly shardId: string;
  /** First record of the range. */
  readonly first: ExtendedSequenceNumber;
  /** Last record of the range: the checkpoint once its objects are durable. */
  readonly last: ExtendedSequenceNumber;
  /** The records, in shard order. */
  readonly records: readonly KinesisRecord[];
  /**
   * Each record's route, at the same index (two arrays rather than an object per record: a range
   * holds thousands of records for seconds, so each object per record is garbage to collect later).
   */
  readonly routes: readonly RecordRoute[];
  /** Payload bytes of the records as read from Kinesis. */
  readonly inputBytes: number;
}

/** One object to write: everything about it except the compressed body. */
export interface ObjectPlan {
  readonly key: string;
  /** `data`, or `error` for the error output. */
  readonly kind: 'data' | 'error';
  readonly errorOutputType: ErrorOutputType | undefined;
  readonly partitionValues: Readonly<Record<string, string>>;
  readonly shardId: string;
  /** First and last record in the object (shard order). */
  readonly first: ExtendedSequenceNumber;
  readonly last: ExtendedSequenceNumber;
  readonly recordCount: number;
  /** Payload bytes of its records as read from Kinesis (before routing and delimiters). */
  readonly inputBytes: number;
  /** Arrival time of the oldest record (the key's time), ISO-8601 UTC. */
  readonly oldestArrival: string;
  /** The data format of the body (`json` for the error output). */
  readonly format: RecordFormatName;
  /** The object's `Content-Type`. */
  readonly contentType: string;
  /**
   * The uncompressed body, as chunks (records and delimiters); empty when the format makes the body at
   * write time (`encodeBody`).
   */
  readonly chunks: readonly Uint8Array[];
  /** Bytes of `chunks` (0 with `encodeBody`). */
  readonly uncompressedBytes: number;
  /** Makes the body when the object is written (Parquet); `undefined`: the body is `chunks`. */
  readonly encodeBody: (() => Promise<ObjectBody>) | undefined;
}

/** A plan's uncompressed body: its chunks, or made now by its format. */
export async function objectBody(plan: ObjectPlan): Promise<ObjectBody> {
  return plan.encodeBody ? plan.encodeBody() : plan;
}

/** How objects are named and laid out. */
export interface ObjectLayout {
  /** The stream's name (or the last part of its ARN), in file names. */
  readonly streamLabel: string;
  readonly prefix: KeyTemplate;
  readonly errorPrefix: KeyTemplate;
  /** The codec's key extension (after the format's, for data objects). */
  readonly extension: string;
  /** The codec's `Content-Type` (data objects use the format's when it has one). */
  readonly contentType: string;
  /** How data objects' bodies are made; the error output is always JSON lines. */
  readonly format: RecordFormat;
  /** IANA time zone of the times in both prefixes. @defaultValue `'UTC'` */
  readonly timeZone?: string;
}

/** The error output's format: JSON lines, always newline-delimited. */
const ERROR_LINES = jsonLinesFormat(true);

/**
 * Splits a sealed range into objects: one per destination (partition — with event-time partitioning,
 * partition and prefix time — or error type), each keyed by its first record. Pure: the same range and
 * layout always give the same objects and keys, in the same order (by first record) — the basis of
 * exactly-once objects.
 */
export function planObjects(range: SealedRange, layout: ObjectLayout): ObjectPlan[] {
  const { records } = range;
  if (records.length === 0) return [];
  const format = layout.format;
  // The format converts the data records first: those that do not fit it go to the error output.
  const { routes, prepared } = format.prepare(records, range.routes);
  // Record indexes by destination, in first-record order; `undefined` for a range with one destination
  // (most ranges), which is then read in place, without a list of indexes.
  let groups: readonly (readonly number[] | undefined)[] = [undefined];
  const firstId = routes[0]!.partitionId;
  for (let i = 1; i < routes.length; i++) {
    if (routes[i]!.partitionId === firstId) continue;
    const byId = new Map<string, number[]>();
    for (let j = 0; j < routes.length; j++) {
      const id = routes[j]!.partitionId;
      let group = byId.get(id);
      if (!group) {
        group = [];
        byId.set(id, group);
      }
      group.push(j);
    }
    groups = [...byId.values()];
    break;
  }
  const plans: ObjectPlan[] = [];
  for (const group of groups) {
    const count = group === undefined ? records.length : group.length;
    const first = group === undefined ? 0 : group[0]!;
    const head = records[first]!;
    const tail = records[group === undefined ? count - 1 : group[count - 1]!]!;
    const route = routes[first]!;
    // Dropped by the transform: in the range (the checkpoint passes them), in no object.
    if (route.kind === 'dropped') continue;
    const { timeZone } = layout;
    // The key's time: with event-time partitioning the group's own (every record of a group renders the
    // same prefix time); otherwise, and for the error output, the oldest record's arrival.
    const timestampMs =
      route.kind === 'data' && route.timestampMs !== undefined
        ? route.timestampMs
        : head.approximateArrivalTimestamp.getTime();
    const prefix =
      route.kind === 'error'
        ? renderKeyTemplate(layout.errorPrefix, {
            timestampMs,
            timeZone,
            errorOutputType: route.errorOutputType,
          })
        : renderKeyTemplate(layout.prefix, { timestampMs, timeZone, partitionValues: route.partitionValues });
    let inputBytes = 0;
    for (let k = 0; k < count; k++)
      inputBytes += records[group === undefined ? k : group[k]!]!.data.byteLength;
    // Error lines are always JSON lines, one per line, whatever the data objects use.
    const isError = route.kind === 'error';
    const encoder: RecordFormat = isError ? ERROR_LINES : format;
    const objectRecords = { records, routes, indexes: group, count };
    const body = encoder.encodesAtWrite ? undefined : (encoder.encode(objectRecords, prepared) as ObjectBody);
    plans.push({
      key:
        prefix +
        objectFileName(
          layout.streamLabel,
          range.shardId,
          head,
          isError ? layout.extension : format.extension + layout.extension,
        ),
      format: isError ? RecordFormatName.Json : format.name,
      contentType: (isError ? undefined : format.contentType) ?? layout.contentType,
      kind: route.kind,
      errorOutputType: route.kind === 'error' ? route.errorOutputType : undefined,
      partitionValues: route.kind === 'data' ? route.partitionValues : {},
      shardId: range.shardId,
      first: position(head),
      last: position(tail),
      recordCount: count,
      inputBytes,
      oldestArrival: head.approximateArrivalTimestamp.toISOString(),
      chunks: body?.chunks ?? [],
      uncompressedBytes: body?.uncompressedBytes ?? 0,
      encodeBody: body === undefined ? async () => encoder.encode(objectRecords, prepared) : undefined,
    });
  }
  return plans;
}

/**
 * An object's uncompressed body in one buffer: its chunks copied in order. Cheaper than `Buffer.concat`
 * for many small chunks (no view or native call per chunk), and hashed in one pass.
 *
 * @throws Error when the chunks do not add up to `byteLength` (a buffer partly unwritten must never reach
 *   S3).
 */
export function joinChunks(chunks: readonly Uint8Array[], byteLength: number): Buffer {
  const body = Buffer.allocUnsafe(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    if (chunk.byteLength === 1) body[offset] = chunk[0]!;
    else body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  if (offset !== byteLength) throw new Error(`object body of ${offset} bytes, expected ${byteLength}`);
  return body;
}

function position(record: KinesisRecord): ExtendedSequenceNumber {
  return { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber };
}

/** What the sink stores with a pending checkpoint: the intended range and a digest of its objects. */
export interface PendingRange {
  readonly first: ExtendedSequenceNumber;
  readonly last: ExtendedSequenceNumber;
  readonly recordCount: number;
  readonly objectCount: number;
  /** SHA-256 (hex) of the objects' keys, newline-joined: a redo must produce the same keys. */
  readonly keysSha256: string;
  /**
   * Multipart uploads started for the range (recorded before their first part): the next owner aborts
   * them after a crash, even where `ListMultipartUploads` is not available.
   */
  readonly multipartUploads: readonly { readonly key: string; readonly uploadId: string }[];
  /**
   * Digest of the settings that decided the objects (see `settingsFingerprint`); `undefined` in a state
   * written by a sink before fingerprints (nothing to compare then).
   */
  readonly settingsFingerprint?: string | undefined;
}

/** The digest of a plan's keys stored in {@link PendingRange}. */
export function keysDigest(plans: readonly ObjectPlan[]): string {
  return createHash('sha256')
    .update(plans.map((p) => p.key).join('\n'))
    .digest('hex');
}

/**
 * Version 1, still: the fingerprint (`fp`) is an optional field that readers without it ignore, so a
 * state stays readable both ways (a sink rolled back to a version without fingerprints redoes its
 * range exactly; a higher version would make it treat the state as foreign and redo the range as one).
 */
const STATE_VERSION = 1;

/** Encodes a {@link PendingRange} as the lease's `pendingCheckpointState` (small JSON). */
export function encodePendingRange(range: PendingRange): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      v: STATE_VERSION,
      first: [range.first.sequenceNumber, range.first.subSequenceNumber],
      last: [range.last.sequenceNumber, range.last.subSequenceNumber],
      records: range.recordCount,
      objects: range.objectCount,
      keys: range.keysSha256,
      mpu: range.multipartUploads.map((u) => [u.key, u.uploadId]),
      fp: range.settingsFingerprint,
    }),
  );
}

/**
 * Decodes a `pendingCheckpointState` written by {@link encodePendingRange}.
 * @throws Error when it is not one.
 */
export function decodePendingRange(state: Uint8Array): PendingRange {
  const value = JSON.parse(new TextDecoder().decode(state)) as Record<string, unknown>;
  const pair = (v: unknown): ExtendedSequenceNumber => {
    if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'number') {
      throw new Error('not a pending range');
    }
    return { sequenceNumber: v[0], subSequenceNumber: v[1] };
  };
  if (value.v !== STATE_VERSION) throw new Error(`unknown pending range version ${String(value.v)}`);
  if (
    typeof value.records !== 'number' ||
    typeof value.objects !== 'number' ||
    typeof value.keys !== 'string'
  ) {
    throw new Error('not a pending range');
  }
  const mpu = value.mpu ?? [];
  if (
    !Array.isArray(mpu) ||
    !mpu.every((u) => Array.isArray(u) && typeof u[0] === 'string' && typeof u[1] === 'string')
  ) {
    throw new Error('not a pending range');
  }
  if (value.fp !== undefined && typeof value.fp !== 'string') throw new Error('not a pending range');
  return {
    multipartUploads: (mpu as [string, string][]).map(([key, uploadId]) => ({ key, uploadId })),
    first: pair(value.first),
    last: pair(value.last),
    recordCount: value.records,
    objectCount: value.objects,
    keysSha256: value.keys,
    settingsFingerprint: value.fp,
  };
}
