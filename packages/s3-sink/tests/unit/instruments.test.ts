import { inMemoryMetrics } from '@shardline/test-kit/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { S3SinkMetricName, type S3SinkMetrics } from '../../src/index.js';
import { S3SinkInstruments } from '../../src/metrics/S3SinkInstruments.js';

const SHARD = 'shardId-000000000001';
const position = {
  sequenceNumber: '49000000000000000000000000000000000000000000000000000001',
  subSequenceNumber: 0,
};
const figures: S3SinkMetrics = {
  objectsWritten: 0,
  errorObjectsWritten: 0,
  bytesWritten: 0,
  recordsWritten: 0,
  errorRecords: 0,
  uploadErrors: 0,
  recordsDropped: 0,
  redoSettingsChanges: 0,
  bufferedRecords: 42,
  bufferedBytes: 4200,
  oldestBufferAgeMs: 1234,
  activeShards: 3,
};

describe('S3SinkInstruments (OpenTelemetry SDK, in-memory reader)', () => {
  const m = inMemoryMetrics();
  afterEach(async () => {
    await m.shutdown();
  });

  it('records every instrument from the events and metrics(), with the naming scheme of consumer-core', async () => {
    let reads = 0;
    const instruments = new S3SinkInstruments({
      meterProvider: m.meterProvider,
      applicationName: 'orders-archive',
      streamName: 'orders',
      workerId: 'worker-1',
      metrics: () => {
        reads += 1;
        return figures;
      },
    });
    const shard = { shardId: SHARD };
    instruments.onEvent({
      type: 'RANGE_SEALED',
      ...shard,
      reason: 'record-count',
      first: position,
      last: position,
      recordCount: 10,
      inputBytes: 1000,
      bufferAgeMs: 5,
    });
    const written = {
      type: 'OBJECT_WRITTEN',
      ...shard,
      key: 'k',
      bytes: 300,
      uncompressedBytes: 900,
      isMultipart: false,
    } as const;
    instruments.onEvent({
      ...written,
      kind: 'data',
      recordCount: 6,
      uploadLatencyMs: 40,
      errorOutputType: undefined,
    });
    instruments.onEvent({
      ...written,
      kind: 'error',
      recordCount: 2,
      uploadLatencyMs: 700,
      errorOutputType: 'processing-failed',
    });
    instruments.onEvent({ type: 'RECORDS_DROPPED', ...shard, last: position, recordCount: 2 });
    instruments.onEvent({
      type: 'RETRY',
      ...shard,
      key: 'k',
      attempt: 1,
      delayMs: 10,
      reason: 'throttled (SlowDown)',
      error: new Error('SlowDown'),
    });
    instruments.onEvent({ type: 'RANGE_ABANDONED', ...shard, recordCount: 3, reason: 'lease lost' });
    instruments.onEvent({
      type: 'REDO_SETTINGS_CHANGED',
      ...shard,
      first: position,
      last: position,
      preparedFingerprint: 'a',
      currentFingerprint: 'b',
      message: 'changed',
    });
    const points = await m.collect();
    const base = {
      'shardline.application': 'orders-archive',
      'shardline.stream': 'orders',
      'shardline.worker.id': 'worker-1',
    };
    const perShard = { ...base, 'shardline.shard.id': SHARD };
    const n = S3SinkMetricName;
    const expected: [string, Record<string, string>, number][] = [
      [n.RecordsIn, perShard, 10],
      [n.BytesIn, perShard, 1000],
      [n.RangesSealed, { ...perShard, 'shardline.s3_sink.seal.reason': 'record-count' }, 1],
      [n.RecordsWritten, perShard, 6],
      [n.ErrorOutputRecords, { ...perShard, 'shardline.s3_sink.error_output.type': 'processing-failed' }, 2],
      [n.RecordsDropped, perShard, 2],
      [n.ObjectsWritten, { ...perShard, 'shardline.s3_sink.object.kind': 'data' }, 1],
      [n.ObjectsWritten, { ...perShard, 'shardline.s3_sink.object.kind': 'error' }, 1],
      [n.BytesWritten, perShard, 600],
      [n.UploadLatency, { ...perShard, 'shardline.s3_sink.object.kind': 'error' }, 1],
      [n.UploadRetries, perShard, 1],
      [n.RangesAbandoned, perShard, 1],
      [n.RedoSettingsChanges, perShard, 1],
      [n.RecordsBuffered, base, 42],
      [n.BytesBuffered, base, 4200],
      [n.BufferAge, base, 1234],
      [n.ActiveShards, base, 3],
    ];
    expect(expected.map(([name, where]) => [name, m.sum(points, name, where)])).toEqual(
      expected.map(([name, , value]) => [name, value]),
    );
    // Every instrument is named and recorded; the names follow consumer-core's `shardline.<package>.*`.
    expect(new Set(points.map((p) => p.name))).toEqual(new Set(Object.values(S3SinkMetricName)));
    expect(Object.values(S3SinkMetricName).every((name) => name.startsWith('shardline.s3_sink.'))).toBe(true);
    const latency = points.find(
      (p) => p.name === n.UploadLatency && p.attributes['shardline.s3_sink.object.kind'] === 'error',
    );
    expect(latency?.unit).toBe('ms');
    expect(latency?.value).toMatchObject({ count: 1, sum: 700 });
    // Units as in consumer-core: records and objects as annotations, bytes By, times ms.
    const unitOf = (name: string) => points.find((p) => p.name === name)?.unit;
    expect([unitOf(n.RecordsIn), unitOf(n.BytesIn), unitOf(n.BufferAge), unitOf(n.ObjectsWritten)]).toEqual([
      '{record}',
      'By',
      'ms',
      '{object}',
    ]);

    expect(reads).toBe(1); // metrics() read once per collection, for the four gauges
    instruments.close();
    await m.collect();
    // metrics() is no longer read once closed (the sink stopped).
    expect(reads).toBe(1);
  });
});
