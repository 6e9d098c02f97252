import { gunzipSync } from 'node:zlib';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { encodeEnvelope } from '@shardline/ingest';
import { type LocalStream, type LocalTwinClient, uniqueName } from '@shardline/local';
import { putRecords, until as waitUntil } from '@shardline/test-kit';
import { readParquet } from './parquet.js';

/** What the test wrote: the independent ledger archives are checked against. */
export interface WrittenEvent {
  readonly eventId: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
}

/**
 * Writes `count` envelopes (`putRecords` of the test kit: 500 a call, failed entries sent again) and
 * returns the ledger.
 * `data(i)` gives each event's data; `raw(i)` may replace the whole record with other bytes.
 */
export async function putEvents(
  kinesis: KinesisClient,
  streamName: string,
  count: number,
  options: {
    readonly prefix?: string;
    readonly data?: (i: number) => unknown;
    readonly raw?: (i: number) => Uint8Array | undefined;
    readonly padBytes?: number;
  } = {},
): Promise<WrittenEvent[]> {
  const prefix = options.prefix ?? 'ev';
  const pad = options.padBytes ? 'x'.repeat(options.padBytes) : undefined;
  const entries = Array.from({ length: count }, (_, i) => {
    const eventId = `${prefix}-${i}`;
    const data = options.data?.(i) ?? { i, event_type: ['view', 'cart', 'purchase'][i % 3], pad };
    return {
      eventId,
      data: options.raw?.(i) ?? encodeEnvelope({ eventId, data }),
      partitionKey: `user-${i % 97}`,
    };
  });
  const written = await putRecords(kinesis, streamName, entries, 20);
  return written.map(({ eventId, shardId, sequenceNumber, partitionKey }) => ({
    eventId,
    shardId,
    sequenceNumber,
    partitionKey,
  }));
}

/** One archived object, read back from S3. */
export interface ArchivedObject {
  readonly key: string;
  readonly body: Buffer;
  /**
   * Its lines (the delimiter removed; the last empty piece dropped). A Parquet object (`.parquet`) is
   * read by DuckDB, an independent reader: one line per row, the row as JSON (integers as strings).
   */
  readonly lines: string[];
  /** A Parquet object's rows as DuckDB reads them. */
  readonly rows?: Record<string, unknown>[];
}

/**
 * Lists every object under `prefix` and reads it (gunzipping `.gz`). `keep` picks the keys to read: a
 * poll that skips objects some process may delete meanwhile (the CLI's start-up write check) must not
 * list them and then fail to read them.
 */
export async function readObjects(
  s3: S3Client,
  bucket: string,
  prefix = '',
  keep: (key: string) => boolean = () => true,
): Promise<ArchivedObject[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key && keep(o.Key)) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const objects: ArchivedObject[] = [];
  const parquet: { name: string; bytes: Uint8Array }[] = [];
  for (const key of keys.sort()) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const raw = Buffer.from(await out.Body!.transformToByteArray());
    if (key.endsWith('.parquet')) {
      parquet.push({ name: key, bytes: raw });
      objects.push({ key, body: raw, lines: [] });
      continue;
    }
    const body = key.endsWith('.gz') ? gunzipSync(raw) : raw;
    const lines = body.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    objects.push({ key, body: raw, lines });
  }
  if (parquet.length === 0) return objects;
  const { rows } = await readParquet(parquet);
  return objects.map((o) => {
    if (!o.key.endsWith('.parquet')) return o;
    const own = rows.filter((r) => r.file === o.key);
    const lines = own.map((r) =>
      JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    );
    return { ...o, lines, rows: own };
  });
}

/** Incomplete multipart uploads in the bucket. */
export async function incompleteUploads(s3: S3Client, bucket: string): Promise<string[]> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
}

/** Data objects (not manifests, not the error output) and their records' event ids. */
export function eventIdsOf(objects: readonly ArchivedObject[]): { key: string; eventIds: string[] }[] {
  return objects
    .filter(
      (o) =>
        !o.key.startsWith('manifests/') &&
        !o.key.startsWith('errors/') &&
        // The CLI's start check writes an empty object there.
        !o.key.startsWith('.shardline-s3-sink/'),
    )
    .map((o) => ({
      key: o.key,
      eventIds: o.lines.map((l) => (JSON.parse(l) as { eventId: string }).eventId),
    }));
}

/**
 * Checks the archive against the ledger: every written event exactly once, each object's records of the
 * shard named by its key in shard order, starting at the key's sequence number. Returns the problems.
 */
export function checkExactlyOnce(
  objects: readonly ArchivedObject[],
  written: readonly WrittenEvent[],
  keyPattern: RegExp,
): string[] {
  const problems: string[] = [];
  const byId = new Map(written.map((w) => [w.eventId, w]));
  const seenIds = new Map<string, string>();
  const seenSeqs = new Set<string>();
  for (const { key, eventIds } of eventIdsOf(objects)) {
    const m = keyPattern.exec(key);
    if (!m?.groups) {
      problems.push(`key ${key} does not match ${keyPattern}`);
      continue;
    }
    let previous: bigint | undefined;
    eventIds.forEach((id, index) => {
      const w = byId.get(id);
      if (!w) {
        problems.push(`${key}: unknown event ${id}`);
        return;
      }
      const other = seenIds.get(id);
      if (other !== undefined) problems.push(`event ${id} twice: in ${other} and ${key}`);
      seenIds.set(id, key);
      const seqKey = `${w.shardId}/${w.sequenceNumber}`;
      if (seenSeqs.has(seqKey) && other === undefined) problems.push(`sequence ${seqKey} twice`);
      seenSeqs.add(seqKey);
      if (w.shardId !== m.groups!.shard) problems.push(`${key}: event ${id} is from ${w.shardId}`);
      const seq = BigInt(w.sequenceNumber);
      if (index === 0 && w.sequenceNumber !== m.groups!.seq) {
        problems.push(`${key}: first record ${w.sequenceNumber} is not the key's`);
      }
      if (previous !== undefined && seq <= previous) problems.push(`${key}: not in shard order at ${id}`);
      previous = seq;
    });
  }
  const missing = written.filter((w) => !seenIds.has(w.eventId));
  if (missing.length > 0) problems.push(`${missing.length} events missing, e.g. ${missing[0]!.eventId}`);
  return problems;
}

/** `until` of the test kit, checking every 200 ms: the checks here list and read S3. */
export const until = (check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition') =>
  waitUntil(check, timeoutMs, what, 200);

/**
 * The keys the sink writes under its default prefix, `yyyy/MM/dd/HH/<stream>-<shardId>-<first sequence
 * number><extension>`, with the groups `shard` and `seq` that {@link checkExactlyOnce} reads.
 */
export function defaultKeyPattern(streamName: string, extension = ''): RegExp {
  return new RegExp(
    `^\\d{4}/\\d{2}/\\d{2}/\\d{2}/${streamName}-(?<shard>shardId-\\d+)-(?<seq>\\d+)${extension.replaceAll('.', '\\.')}$`,
  );
}

/** A new stream of `shardCount` shards and a new bucket, both named after `name` (made unique). */
export async function createStreamAndBucket(
  local: LocalTwinClient,
  name: string,
  shardCount: number,
): Promise<{ stream: LocalStream; bucket: string }> {
  const stream = await local.createStream(uniqueName(name), { shardCount });
  const bucket = uniqueName(name);
  await local.createBucket(bucket);
  return { stream, bucket };
}
