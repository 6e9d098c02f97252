/**
 * Baseline of `pnpm bench s3-sink` (its own process): one GetShardIterator(TRIM_HORIZON) + GetRecords
 * (`Limit` 10,000) loop per shard over a pre-loaded stream, with the sink's client settings, that
 * writes each shard's records to S3 with plain `PutObject` in objects closed by the sink's size rule
 * (record bytes reaching `bufferSizeBytes`; the rest at the shard's end): each record's bytes as they
 * arrived plus `\n`, gzip (zlib level 6, as the sink) when asked; or, for the Parquet pair, one Parquet
 * file per object written by the same library with the same columns as the sink's (`bareParquet.ts`). Per shard, one object is uploaded
 * while the loop reads on (the sink also reads ahead while it writes, one range per shard at a time).
 * No lease table, no manifest, no checkpoint: the ceiling the sink is held against.
 */

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { GetRecordsCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { kinesisClientConfig, s3ClientConfig } from '@shardline/local';
import { countRequests, runContender, trimHorizonIterator } from '../harness/index.js';
import { encodeParquet } from './bareParquet.js';
import { BENCH_PARQUET_SCHEMA_VERSION, type DrainInput, drainMetrics } from './shared.js';

const gzipAsync = promisify(gzip);
const NEWLINE = new Uint8Array([0x0a]);

runContender<DrainInput>(async (input, probe) => {
  const kinesis = new KinesisClient(kinesisClientConfig(input.info));
  const s3 = new S3Client(s3ClientConfig(input.info));
  const s3Requests = countRequests(s3);
  let durableRecords = 0;
  let objects = 0;
  let storedBytes = 0;

  const writeObject = async (key: string, chunks: Uint8Array[], records: number): Promise<void> => {
    const raw = input.format === 'parquet' ? encodeParquet(chunks) : Buffer.concat(chunks);
    const body = input.compression === 'gzip' ? await gzipAsync(raw) : raw;
    await s3.send(
      new PutObjectCommand({
        Bucket: input.bucket,
        Key: key,
        Body: body,
        ContentType:
          input.format === 'parquet'
            ? 'application/vnd.apache.parquet'
            : input.compression === 'gzip'
              ? 'application/gzip'
              : 'application/x-ndjson',
      }),
    );
    objects += 1;
    storedBytes += body.length;
    durableRecords += records;
    if (durableRecords === input.records) probe.mark('end');
  };

  probe.mark('start'); // the first GetShardIterator
  const extension =
    input.format === 'parquet'
      ? `.${BENCH_PARQUET_SCHEMA_VERSION}.parquet`
      : input.compression === 'gzip'
        ? '.gz'
        : '';
  // Parquet: the records only (no delimiter), encoded when the object closes.
  const isParquet = input.format === 'parquet';
  await Promise.all(
    input.shardIds.map(async (shardId) => {
      let iterator = await trimHorizonIterator(kinesis, input.streamName, shardId);
      let chunks: Uint8Array[] = [];
      let bufferedBytes = 0;
      let bufferedRecords = 0;
      let firstSequenceNumber = '';
      let upload: Promise<void> = Promise.resolve();
      const close = async () => {
        const key = `${input.streamName}-${shardId}-${firstSequenceNumber}${extension}`;
        const [objectChunks, records] = [chunks, bufferedRecords];
        chunks = [];
        bufferedBytes = 0;
        bufferedRecords = 0;
        await upload; // one object in flight per shard
        upload = writeObject(key, objectChunks, records);
      };
      while (iterator) {
        probe.signal.throwIfAborted();
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const records = out.Records ?? [];
        // Everything was put before reading: an empty answer is the shard's tip.
        if (records.length === 0) break;
        for (const record of records) {
          const data = record.Data ?? new Uint8Array();
          if (bufferedRecords === 0) firstSequenceNumber = record.SequenceNumber ?? '';
          if (isParquet) chunks.push(data);
          else chunks.push(data, NEWLINE);
          bufferedBytes += data.length;
          bufferedRecords += 1;
          if (bufferedBytes >= input.bufferSizeBytes) await close();
        }
        iterator = out.NextShardIterator;
      }
      if (bufferedRecords > 0) await close();
      await upload;
    }),
  );
  kinesis.destroy();
  s3.destroy();
  if (durableRecords !== input.records) {
    throw new Error(`the bare loop wrote ${durableRecords} records, expected ${input.records}`);
  }
  return {
    ...drainMetrics(input, probe.between('start', 'end'), { objects, storedBytes }),
    s3_put_object_calls: s3Requests.count('PutObject'),
  };
});
