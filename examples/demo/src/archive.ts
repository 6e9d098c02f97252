import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { decodeEnvelope } from '@shardline/ingest';

/** What the archive holds, read from the objects themselves. */
export interface ArchiveContents {
  readonly objects: number;
  readonly bytes: number;
  /** Event id → how many times it is archived. */
  readonly eventIds: ReadonlyMap<string, number>;
  /** Records under the error prefix. */
  readonly errorRecords: number;
}

/** Reads every data object of the bucket (manifests aside), gunzipping `.gz` ones, and counts event ids. */
export async function readArchive(
  s3: S3Client,
  bucket: string,
  manifestPrefix = 'manifests/',
): Promise<ArchiveContents> {
  const eventIds = new Map<string, number>();
  let objects = 0;
  let bytes = 0;
  let errorRecords = 0;
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
      const text = (Key.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        if (Key.startsWith('errors/')) {
          errorRecords += 1;
          continue;
        }
        const { eventId } = decodeEnvelope(line);
        eventIds.set(eventId, (eventIds.get(eventId) ?? 0) + 1);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, bytes, eventIds, errorRecords };
}
