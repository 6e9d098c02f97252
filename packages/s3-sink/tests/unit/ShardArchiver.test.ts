import {
  type KinesisRecord,
  LeaseLostError,
  type RecordBatch,
  type ShardSession,
} from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resolveS3SinkConfig, type S3SinkEvent, type S3SinkOptions } from '../../src/index.js';
import {
  encodePendingRange,
  keysDigest,
  type ObjectPlan,
  type PendingRange,
  planObjects,
} from '../../src/objects/planObjects.js';
import { createRecordRouter } from '../../src/routing/RecordRouter.js';
import { ShardArchiver } from '../../src/ShardArchiver.js';
import type { ObjectWriter } from '../../src/upload/ObjectWriter.js';

const SHARD = 'shardId-000000000000';
const client = { send: async () => ({}) } as never;

function record(i: number, type = 'view'): KinesisRecord {
  return {
    data: encodeEnvelope({ eventId: `ev-${i}`, receivedAt: '2026-11-25T16:00:00.000Z', data: { i, type } }),
    partitionKey: 'pk',
    explicitHashKey: undefined,
    sequenceNumber: String(100_000_000_000_000_000_000n + BigInt(i)),
    subSequenceNumber: 0,
    approximateArrivalTimestamp: new Date(Date.UTC(2026, 10, 25, 16)),
    isAggregated: false,
  };
}

/** A plain fake of the consumer's side: the lease table's two-phase checkpoint, as a log. */
function harness(options: Partial<S3SinkOptions>, session: Partial<ShardSession> = {}) {
  const config = resolveS3SinkConfig({
    streamName: 'orders',
    bucket: 'archive-bucket',
    applicationName: 'app',
    kinesisClient: client,
    dynamoDBClient: client,
    s3Client: client,
    bufferIntervalMs: 900_000,
    ...options,
  });
  const log: string[] = [];
  let isLeaseLost = false;
  const records$ = new Subject<RecordBatch>();
  const batch = (records: KinesisRecord[]): RecordBatch => ({
    shardId: SHARD,
    records,
    millisBehindLatest: 0,
    checkpoint: async (p) => {
      if (!isLeaseLost) log.push(`checkpoint ${(p as KinesisRecord).sequenceNumber.slice(-3)}`);
    },
    prepareCheckpoint: async (p) => {
      if (isLeaseLost) throw new LeaseLostError(SHARD);
      log.push(`prepare ${(p as KinesisRecord).sequenceNumber.slice(-3)}`);
    },
    release: () => {},
  });
  const written: ObjectPlan[] = [];
  const writer = {
    write: async (plan: ObjectPlan) => {
      written.push(plan);
      log.push(
        `write ${plan.first.sequenceNumber.slice(-3)}-${plan.last.sequenceNumber.slice(-3)} (${plan.recordCount})`,
      );
      return { manifest: { bytes: 1 }, isMultipart: false, uploadLatencyMs: 0 };
    },
    abortMultipartUpload: async (_s: string, key: string) => {
      log.push(`abort ${key}`);
      return true;
    },
    abortIncompleteUploads: async () => 0,
  } as unknown as ObjectWriter;
  const events: S3SinkEvent[] = [];
  const layout = {
    streamLabel: 'orders',
    prefix: config.prefix,
    errorPrefix: config.errorPrefix,
    extension: '',
    newlineDelimiter: true,
  };
  const route = createRecordRouter({
    recordContent: 'envelope',
    invalidRecordPolicy: 'error-output',
    partitionQueries: config.partitionQueries,
  });
  const archiver = new ShardArchiver(
    {
      shardId: SHARD,
      parentShardIds: [],
      startingCheckpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
      completion: new Promise(() => {}),
      fail: () => {},
      ...session,
      records$: records$.asObservable(),
    },
    {
      config,
      layout,
      route,
      writer,
      emit: (e) => events.push(e),
      hardStopSignal: new AbortController().signal,
      isStopping: () => true,
      onObjectWritten: () => {},
    },
  );
  archiver.start();
  return {
    archiver,
    log,
    events,
    written,
    layout,
    route,
    push: (records: KinesisRecord[]) => records$.next(batch(records)),
    end: async () => {
      records$.complete();
      await archiver.done;
    },
    loseLease: () => {
      isLeaseLost = true;
    },
  };
}

const records = (from: number, to: number, type?: (i: number) => string) =>
  Array.from({ length: to - from + 1 }, (_, k) => record(from + k, type?.(from + k)));

describe('ShardArchiver', () => {
  it('prepares, writes, then checkpoints each range; closes by size; flushes at the end', async () => {
    const h = harness({ bufferSizeBytes: 1024 });
    const size = record(1).data.byteLength; // ~90 bytes: 12 records fill 1 KiB
    h.push(records(1, 30));
    await h.end();
    const perRange = Math.ceil(1024 / size);
    expect(h.log.slice(0, 3)).toEqual([
      `prepare ${String(perRange).padStart(3, '0')}`,
      `write 001-${String(perRange).padStart(3, '0')} (${perRange})`,
      `checkpoint ${String(perRange).padStart(3, '0')}`,
    ]);
    expect(h.log.at(-1)).toBe('checkpoint 030');
    expect(h.written.reduce((n, p) => n + p.recordCount, 0)).toBe(30);
    expect(
      h.events
        .filter((e) => e.type === 'RANGE_SEALED')
        .map((e) => (e.type === 'RANGE_SEALED' ? e.reason : '')),
    ).toEqual(['size', 'size', 'stop']);
  });

  it('redoes a previous owner’s pending range exactly, skipping records already archived before it', async () => {
    // The previous owner wrote 1–10 (its checkpoint write was lost) and prepared 11–20.
    const probe = harness({ bufferSizeBytes: 1024 * 1024 });
    const range = {
      shardId: SHARD,
      first: record(11),
      last: record(20),
      records: records(11, 20).map((r) => ({ record: r, route: probe.route(r) })),
      inputBytes: 0,
    };
    const plans = planObjects(range, probe.layout);
    const pending: PendingRange = {
      first: record(11),
      last: record(20),
      recordCount: 10,
      objectCount: plans.length,
      keysSha256: keysDigest(plans),
      multipartUploads: [{ key: plans[0]!.key, uploadId: 'upload-1' }],
    };
    const h = harness(
      { bufferSizeBytes: 1024 * 1024 },
      { pendingCheckpoint: record(20), pendingCheckpointState: encodePendingRange(pending) },
    );
    h.push(records(1, 15));
    h.push(records(16, 40));
    await h.end();
    expect(h.log).toEqual([
      `abort ${plans[0]!.key}`,
      'prepare 020',
      'write 011-020 (10)',
      'checkpoint 020',
      'prepare 040',
      'write 021-040 (20)',
      'checkpoint 040',
    ]);
    expect(h.written[0]!.key).toBe(plans[0]!.key);
    expect(h.events).toContainEqual({ type: 'RECORDS_ALREADY_ARCHIVED', shardId: SHARD, recordCount: 10 });
    expect(h.events.some((e) => e.type === 'PENDING_RANGE_MISMATCH')).toBe(false);
  });

  it('never cuts a redo short: a session ending inside the pending range writes nothing', async () => {
    const h = harness({}, { pendingCheckpoint: record(20), pendingCheckpointState: undefined });
    h.push(records(1, 12));
    await h.end();
    expect(h.log).toEqual([]);
    expect(h.events.some((e) => e.type === 'RANGE_ABANDONED')).toBe(true);
  });

  it('closes the buffer before a partition beyond maxActivePartitions', async () => {
    const h = harness({
      prefix: 't=!{partitionKeyFromQuery:t}/',
      partitionKeys: { t: 'data.type' },
      maxActivePartitions: 2,
    });
    h.push(records(1, 6, (i) => ['a', 'b', 'a', 'c', 'c', 'a'][i - 1]!));
    await h.end();
    // a,b,a | c,c,a: the third partition closes the first range.
    expect(h.log.filter((l) => l.startsWith('prepare'))).toEqual(['prepare 003', 'prepare 006']);
    expect(h.written.map((p) => p.key.split('/')[0])).toEqual(['t=a', 't=b', 't=c', 't=a']);
  });

  it('abandons its buffer when the lease is lost: nothing written, nothing checkpointed', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 });
    h.push(records(1, 5));
    h.loseLease();
    await h.end();
    expect(h.log).toEqual([]);
    expect(h.events.some((e) => e.type === 'RANGE_ABANDONED')).toBe(true);
  });
});
