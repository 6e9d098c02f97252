import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { decodeEnvelope } from '@shardline/ingest';

/** The demo's archive formats: JSON lines (gzip) or Parquet. */
export type ArchiveFormat = 'json' | 'parquet';

/** Fields of the e-commerce sample that the Parquet demo sends as JSON numbers (`--type f=number`). */
export const SAMPLE_NUMBER_FIELDS = ['product_id', 'category_id', 'price', 'user_id'] as const;

/**
 * The Parquet columns of the e-commerce sample's events (the sink's column-list form). `category_id`
 * holds integers beyond 2^53: INT64 keeps them exact. `event_time` stays a string (`2019-10-01 00:00:00
 * UTC` is not RFC 3339).
 */
export const SAMPLE_PARQUET_SCHEMA = [
  { name: 'event_time', type: 'string', nullable: false },
  { name: 'event_type', type: 'string', nullable: false },
  { name: 'product_id', type: 'integer' },
  { name: 'category_id', type: 'integer' },
  { name: 'category_code', type: 'string' },
  { name: 'brand', type: 'string' },
  { name: 'price', type: 'number' },
  { name: 'user_id', type: 'integer' },
  { name: 'user_session', type: 'string' },
] as const;

/** What the archive holds, read from the objects themselves. */
export interface ArchiveContents {
  readonly objects: number;
  readonly bytes: number;
  /** Event id → how many times it is archived. */
  readonly eventIds: ReadonlyMap<string, number>;
  /** Records under the error prefix. */
  readonly errorRecords: number;
}

/**
 * Reads every data object of the bucket (manifests aside) and counts event ids: JSON lines (gunzipping
 * `.gz` objects) through the envelope decoder, Parquet objects with DuckDB, a reader Shardline did not
 * write.
 */
export async function readArchive(
  s3: S3Client,
  bucket: string,
  manifestPrefix = 'manifests/',
): Promise<ArchiveContents> {
  const eventIds = new Map<string, number>();
  const count = (eventId: string) => eventIds.set(eventId, (eventIds.get(eventId) ?? 0) + 1);
  let objects = 0;
  let bytes = 0;
  let errorRecords = 0;
  const parquetFiles: Uint8Array[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      // The sink's own objects: manifests, and the CLI's start-up write check if it could not delete it.
      if (!Key || Key.startsWith(manifestPrefix) || Key.startsWith('.shardline-s3-sink/')) continue;
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const raw = Buffer.from(await object.Body!.transformToByteArray());
      objects += 1;
      bytes += raw.length;
      if (Key.endsWith('.parquet')) {
        parquetFiles.push(raw);
        continue;
      }
      const text = (Key.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        if (Key.startsWith('errors/')) {
          errorRecords += 1;
          continue;
        }
        count(decodeEnvelope(line).eventId);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const eventId of await parquetEventIds(parquetFiles)) count(eventId);
  return { objects, bytes, eventIds, errorRecords };
}

/** The `eventId` of every row of the Parquet files, read by DuckDB. */
async function parquetEventIds(files: readonly Uint8Array[]): Promise<string[]> {
  if (files.length === 0) return [];
  // Loaded only for a Parquet archive (a native module).
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const dir = await mkdtemp(join(tmpdir(), 'shardline-demo-parquet-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const paths = await Promise.all(
      files.map(async (bytes, i) => {
        const path = join(dir, `${i}.parquet`);
        await writeFile(path, bytes);
        return path;
      }),
    );
    const list = paths.map((path) => `'${path}'`).join(', ');
    const read = await connection.runAndReadAll(`SELECT eventId FROM read_parquet([${list}])`);
    return read.getRowObjects().map((row) => String(row.eventId));
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
