import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { inMemoryMetrics } from '@shardline/test-kit/metrics';
import { describe, expect, it } from 'vitest';
import { S3SinkMetricName, type TransformResult } from '../../src/index.js';
import {
  checkExactlyOnce,
  createStreamAndBucket,
  defaultKeyPattern,
  eventIdsOf,
  putEvents,
  readObjects,
  until,
} from '../helpers/archive.js';
import { kill, stopGracefully, targetArgs, useSinkProcesses, waitFor } from '../helpers/processes.js';
import { useTestSinks } from '../helpers/sinks.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
const sink = useTestSinks(local);
const spawnSink = useSinkProcesses();

const WAIT_MS = 90_000;
const decoder = new TextDecoder();
const isDropped = (eventId: string) => Number(eventId.split('-').pop()) % 10 === 0;

/** Sums the record counts of the manifests (cheap to poll; the final checks read the objects). */
async function manifestRecordCount(bucket: string): Promise<number> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'manifests/' }));
  let total = 0;
  for (const o of page.Contents ?? []) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
    total += (JSON.parse(await out.Body!.transformToString()) as { recordCount: number }).recordCount;
  }
  return total;
}

describe('s3-sink: transform, record-count buffering and OpenTelemetry metrics', () => {
  it('in process: Ok records archived, Dropped ones nowhere, ProcessingFailed in the error output; ranges of bufferRecords; the instruments agree with S3', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'xform', 1);
    const count = 120;
    const written = await putEvents(kinesis, stream.streamName, count);
    const metrics = inMemoryMetrics();
    // i % 10 == 0: dropped; i % 10 == 7: failed; the others kept as read.
    const transform = (record: { data: Uint8Array }): TransformResult => {
      const { eventId } = JSON.parse(decoder.decode(record.data)) as { eventId: string };
      const i = Number(eventId.split('-').pop());
      if (i % 10 === 0) return { result: 'Dropped' };
      if (i % 10 === 7) return { result: 'ProcessingFailed', reason: `event ${i} refused` };
      return { result: 'Ok', data: record.data };
    };
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('xform-app'),
      bufferIntervalMs: 900_000,
      bufferRecords: 25,
      transform: { version: 'drop-tens-v1', transform },
      meterProvider: metrics.meterProvider,
    });
    await s.start();
    await until(
      () => {
        const m = s.metrics();
        return m.recordsWritten + m.errorRecords + m.recordsDropped + m.bufferedRecords >= count;
      },
      WAIT_MS,
      'every record taken',
    );
    await s.stop();

    // The independent ledger: what S3 holds.
    const objects = await readObjects(s3, bucket);
    const data = objects.filter((o) => !o.key.startsWith('manifests/') && !o.key.startsWith('errors/'));
    const kept = written.filter((w) => !isDropped(w.eventId) && !w.eventId.endsWith('7'));
    expect(checkExactlyOnce(data, kept, defaultKeyPattern(stream.streamName))).toEqual([]);
    const errorLines = objects
      .filter((o) => o.key.startsWith('errors/processing-failed/'))
      .flatMap((o) => o.body.toString('utf8').trim().split('\n'))
      .map((line) => JSON.parse(line) as { errorCode: string; errorMessage: string; rawData: string });
    expect(errorLines.map((l) => l.errorCode)).toEqual(Array(12).fill('Transform.ProcessingFailed'));
    const failedIds = errorLines.map(
      (l) => (JSON.parse(Buffer.from(l.rawData, 'base64').toString('utf8')) as { eventId: string }).eventId,
    );
    expect(failedIds).toEqual(written.filter((w) => w.eventId.endsWith('7')).map((w) => w.eventId));
    // Ranges of 25 records (dropped and failed ones included), the last closed by stop().
    const reasons = events.flatMap((e) =>
      e.type === 'RANGE_SEALED' ? [`${e.reason} ${e.recordCount}`] : [],
    );
    expect(reasons).toEqual([...Array(4).fill('record-count 25'), 'stop 20']);
    expect(data.every((o) => eventIdsOf([o])[0]!.eventIds.length <= 25)).toBe(true);

    // The instruments, against the S3 ledger.
    const points = await metrics.collect();
    const n = S3SinkMetricName;
    expect({
      in: metrics.sum(points, n.RecordsIn),
      written: metrics.sum(points, n.RecordsWritten),
      failed: metrics.sum(points, n.ErrorOutputRecords, {
        'shardline.s3_sink.error_output.type': 'processing-failed',
      }),
      dropped: metrics.sum(points, n.RecordsDropped),
      objects: metrics.sum(points, n.ObjectsWritten),
      recordCountSeals: metrics.sum(points, n.RangesSealed, {
        'shardline.s3_sink.seal.reason': 'record-count',
      }),
      bytesWritten: metrics.sum(points, n.BytesWritten),
    }).toEqual({
      in: count,
      written: kept.length,
      failed: 12,
      dropped: 12,
      objects: objects.filter((o) => !o.key.startsWith('manifests/')).length,
      recordCountSeals: 4,
      bytesWritten: objects
        .filter((o) => !o.key.startsWith('manifests/'))
        .reduce((b, o) => b + o.body.length, 0),
    });
    expect(metrics.sum(points, n.UploadLatency)).toBe(metrics.sum(points, n.ObjectsWritten));
    // The consumer's instruments go to the same provider.
    expect(metrics.sum(points, 'shardline.consumer.records.processed')).toBe(count);
    await metrics.shutdown();
  }, 120_000);

  it(
    'crash after a range prepared with transform version A, restart with version B: the mismatch is reported once, every kept record is in S3 exactly once',
    async () => {
      const { stream, bucket } = await createStreamAndBucket(local, 'xcrash', 1);
      const count = 300;
      const written = await putEvents(kinesis, stream.streamName, count);
      const kept = written.filter((w) => !isDropped(w.eventId));
      const app = uniqueName('xcrash-app');
      const transformA = fileURLToPath(new URL('../helpers/transforms/tagA.ts', import.meta.url));
      const transformB = fileURLToPath(new URL('../helpers/transforms/tagB.ts', import.meta.url));
      const args = [
        ...targetArgs(stream.streamName, bucket, app),
        '--buffer-records',
        '100',
        '--buffer-interval-ms',
        '900000',
        '--failover-time-ms',
        '10000',
        '--idle-time-between-reads-ms',
        '100',
      ];
      // The named point: the second range's objects are durable, its checkpoint is not written.
      const first = spawnSink(local.info, [...args, '--transform', transformA], {
        testHook: 'objects-written:2',
      });
      await waitFor(
        first,
        (o) => o.stderr.includes('HOOK objects-written'),
        'crash point objects-written:2',
        WAIT_MS,
      );
      await kill(first);

      const second = spawnSink(local.info, [...args, '--transform', transformB]);
      await until(
        async () => (await manifestRecordCount(bucket)) >= kept.length,
        WAIT_MS,
        'every kept record archived',
      );
      // Let a duplicate, if the sink made one, land before checking.
      await new Promise((r) => setTimeout(r, 500));
      expect((await stopGracefully(second)).code).toBe(0);

      const objects = await readObjects(s3, bucket);
      expect(checkExactlyOnce(objects, kept, defaultKeyPattern(stream.streamName))).toEqual([]);
      const firstEvents = first.events();
      const secondEvents = second.events();
      expect(firstEvents.some((e) => e.type === 'REDO_SETTINGS_CHANGED')).toBe(false);
      const changes = secondEvents.filter((e) => e.type === 'REDO_SETTINGS_CHANGED');
      expect(changes).toHaveLength(1);
      expect(changes[0]!.preparedFingerprint).not.toBe(changes[0]!.currentFingerprint);
      expect(changes[0]!.last).toEqual({
        sequenceNumber: written[199]!.sequenceNumber,
        subSequenceNumber: 0,
      });
      const reasons = secondEvents.flatMap((e) =>
        e.type === 'RANGE_SEALED' ? [`${e.reason as string} ${e.recordCount as number}`] : [],
      );
      expect(reasons).toEqual(['redo 100', 'record-count 100']);
      // The redo proceeded once and never came back to the mismatch.
      expect(secondEvents.filter((e) => e.type === 'RANGE_CHECKPOINTED')).toHaveLength(2);
      expect(second.output().stderr).toContain('the range was prepared with other settings');
    },
    4 * WAIT_MS,
  );
});
