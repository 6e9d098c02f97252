import {
  type KinesisRecord,
  LeaseLostError,
  type RecordBatch,
  type ShardSession,
  silentLogger,
} from '@shardline/consumer-core';
import { encodeEnvelope } from '@shardline/ingest';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  resolveS3SinkConfig,
  type S3SinkEvent,
  type S3SinkHookInfo,
  type S3SinkOptions,
} from '../../src/index.js';
import {
  decodePendingRange,
  encodePendingRange,
  keysDigest,
  type ObjectPlan,
  type PendingRange,
  planObjects,
} from '../../src/objects/planObjects.js';
import { createRecordRouter } from '../../src/routing/RecordRouter.js';
import {
  type RouteResult,
  type TransformResult,
  transformThenRoute,
} from '../../src/routing/RecordTransform.js';
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
function harness(
  options: Partial<S3SinkOptions>,
  session: Partial<ShardSession> = {},
  overrides: {
    route?: (r: KinesisRecord, shardId: string) => RouteResult;
    settingsFingerprint?: string;
  } = {},
) {
  const config = resolveS3SinkConfig({
    streamName: 'orders',
    bucket: 'archive-bucket',
    applicationName: 'app',
    kinesisClient: client,
    dynamoDBClient: client,
    s3Client: client,
    bufferIntervalMs: 900_000,
    logger: silentLogger,
    ...options,
  });
  const log: string[] = [];
  let isLeaseLost = false;
  let prepareError: Error | undefined;
  /** Each pending checkpoint's state, as written. */
  const states: Uint8Array[] = [];
  const records$ = new Subject<RecordBatch>();
  const batch = (records: KinesisRecord[]): RecordBatch => ({
    shardId: SHARD,
    records,
    millisBehindLatest: 0,
    checkpoint: async (p) => {
      if (!isLeaseLost) log.push(`checkpoint ${(p as KinesisRecord).sequenceNumber.slice(-3)}`);
    },
    prepareCheckpoint: async (p, state) => {
      if (isLeaseLost) throw new LeaseLostError(SHARD);
      if (prepareError) throw prepareError;
      if (state) states.push(state);
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
  /** Records the archiver reported in written objects (what the sink adds to `recordsWritten`). */
  const objectRecords = { n: 0 };
  const layout = {
    streamLabel: 'orders',
    prefix: config.prefix,
    errorPrefix: config.errorPrefix,
    extension: '',
    contentType: 'application/x-ndjson',
    format: config.format,
  };
  const router = createRecordRouter({
    recordContent: 'envelope',
    invalidRecordPolicy: config.invalidRecordPolicy,
    partitionQueries: config.partitionQueries,
  });
  const route = overrides.route ?? (config.transform ? transformThenRoute(config.transform, router) : router);
  /** Records the archiver reported dropped by the transform (what the sink adds to `recordsDropped`). */
  const dropped = { n: 0 };
  const archiver = new ShardArchiver(
    {
      shardId: SHARD,
      parentShardIds: [],
      startingCheckpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
      completion: new Promise(() => {}),
      // As consumer-core's: no more batches, the lease released in the background.
      fail: (error: Error) => {
        log.push(`fail ${error.message}`);
        records$.complete();
      },
      ...session,
      records$: records$.asObservable(),
    },
    {
      config,
      layout,
      route,
      settingsFingerprint: overrides.settingsFingerprint,
      writer,
      emit: (e) => events.push(e),
      hardStopSignal: new AbortController().signal,
      isStopping: () => true,
      onObjectWritten: (plan) => {
        objectRecords.n += plan.recordCount;
      },
      onRecordsDropped: (n) => {
        dropped.n += n;
      },
    },
  );
  archiver.start();
  return {
    archiver,
    log,
    events,
    objectRecords,
    dropped,
    states,
    written,
    layout,
    route: router,
    push: (records: KinesisRecord[]) => records$.next(batch(records)),
    end: async () => {
      records$.complete();
      await archiver.done;
    },
    loseLease: () => {
      isLeaseLost = true;
    },
    failPrepare: (error: Error) => {
      prepareError = error;
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

  it('counts a record as buffered or written, never both, at every point of the seal path', async () => {
    // The sink's metrics() adds `buffered.records` to the records of written objects. They used to
    // overlap from the first object written to the checkpoint (the range stayed buffered), so a caller
    // stopping once "buffered + written" reached the records it expected stopped before every record
    // was read, and waited for the missing objects for ever (`pnpm bench s3-sink`).
    const points: string[] = [];
    const overlaps: string[] = [];
    let h: ReturnType<typeof harness> | undefined;
    const at =
      (point: string) =>
      (info: S3SinkHookInfo): void => {
        // One batch of 30: at a seal ending at record L, records 1..L are taken, L+1.. not yet.
        const taken = Number(info.last.sequenceNumber.slice(-3));
        const buffered = h!.archiver.buffered.records;
        const written = h!.objectRecords.n;
        // (A hook that threw would fail the shard: the sums are checked after the run.)
        points.push(`${point} ${taken}: buffered ${buffered} + written ${written}`);
        if (buffered + written !== taken) overlaps.push(`${point} ${taken}: ${buffered + written}`);
      };
    h = harness({
      bufferSizeBytes: 1024,
      hooks: {
        rangeSealed: at('sealed'),
        pendingWritten: at('prepared'),
        objectsWritten: at('objects-written'),
        checkpointed: at('checkpointed'),
      },
    });
    h.push(records(1, 30));
    await h.end();
    expect(overlaps).toEqual([]);
    const perRange = Math.ceil(1024 / record(1).data.byteLength);
    expect(points.slice(0, 4)).toEqual([
      `sealed ${perRange}: buffered ${perRange} + written 0`,
      `prepared ${perRange}: buffered ${perRange} + written 0`,
      `objects-written ${perRange}: buffered 0 + written ${perRange}`,
      `checkpointed ${perRange}: buffered 0 + written ${perRange}`,
    ]);
    expect(points).toHaveLength(12); // three ranges, four points each
    expect(h.archiver.buffered).toEqual({ records: 0, bytes: 0, openedAtMs: undefined });
    expect(h.objectRecords.n).toBe(30);
  });

  it('a range of several objects leaves the buffered count object by object', async () => {
    const seen: Array<{ records: number; bytes: number }> = [];
    const h = harness({
      bufferSizeBytes: 1024 * 1024,
      prefix: 't=!{partitionKeyFromQuery:t}/',
      partitionKeys: { t: 'data.type' },
    });
    const input = records(1, 6, (i) => (i % 2 === 0 ? 'a' : 'b'));
    const bytesOf = (rs: KinesisRecord[]) => rs.reduce((n, r) => n + r.data.byteLength, 0);
    h.events.push = (...events: S3SinkEvent[]) => {
      for (const e of events) {
        if (e.type !== 'OBJECT_WRITTEN') continue;
        const { records: r, bytes } = h.archiver.buffered;
        seen.push({ records: r, bytes });
      }
      return Array.prototype.push.apply(h.events, events);
    };
    h.push(input);
    await h.end();
    // Objects in the order of their first record: b (1,3,5), then a (2,4,6).
    expect(seen).toEqual([
      { records: 3, bytes: bytesOf(input.filter((_, k) => k % 2 === 1)) },
      { records: 0, bytes: 0 },
    ]);
  });

  it('redoes a previous owner’s pending range exactly, skipping records already archived before it', async () => {
    // The previous owner wrote 1–10 (its checkpoint write was lost) and prepared 11–20.
    const probe = harness({ bufferSizeBytes: 1024 * 1024 });
    const range = {
      shardId: SHARD,
      first: record(11),
      last: record(20),
      records: records(11, 20),
      routes: records(11, 20).map((r) => probe.route(r)),
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

  it('counts each event-time bucket as a partition: a new hour beyond maxActivePartitions closes the buffer', async () => {
    const options = {
      prefix: '!{timestamp:yyyy/MM/dd/HH}/',
      timeField: 'data.type',
      maxActivePartitions: 2,
    } as const;
    const config = resolveS3SinkConfig({
      streamName: 'orders',
      bucket: 'archive-bucket',
      applicationName: 'app',
      kinesisClient: client,
      dynamoDBClient: client,
      s3Client: client,
      ...options,
    });
    const route = createRecordRouter({
      recordContent: 'envelope',
      invalidRecordPolicy: 'error-output',
      partitionQueries: config.partitionQueries,
      eventTime: { ...config.eventTime!, prefix: config.prefix, timeZone: config.timeZone },
    });
    const h = harness(options, {}, { route });
    const hours = [10, 11, 10, 12, 12, 10];
    h.push(records(1, 6, (i) => `2026-11-20T${hours[i - 1]}:30:00Z`));
    await h.end();
    // 10,11,10 | 12,12,10: the third hour closes the first range; each range gives one object per hour.
    expect(h.log.filter((l) => l.startsWith('prepare'))).toEqual(['prepare 003', 'prepare 006']);
    expect(h.written.map((p) => `${p.key.slice(0, 14)} ${p.recordCount}`)).toEqual([
      '2026/11/20/10/ 2',
      '2026/11/20/11/ 1',
      '2026/11/20/12/ 2',
      '2026/11/20/10/ 1',
    ]);
  });

  it('abandons its buffer when the lease is lost: nothing written, nothing checkpointed', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 });
    h.push(records(1, 5));
    h.loseLease();
    await h.end();
    expect(h.log).toEqual([]);
    expect(h.events.some((e) => e.type === 'RANGE_ABANDONED')).toBe(true);
  });

  describe('a step that throws', () => {
    /**
     * An envelope whose data is valid JSON nested `depth` deep around a big integer: the exact
     * (recursive) parser that big integers need runs out of stack (RangeError).
     */
    const deepRecord = (i: number, depth: number): KinesisRecord => ({
      ...record(i),
      data: new TextEncoder().encode(
        `{"eventId":"ev-${i}","receivedAt":"2026-11-25T16:00:00.000Z","data":${'{"a":'.repeat(depth)}123456789012345678901${'}'.repeat(depth)}}`,
      ),
    });

    it('six records, record 2 cannot be routed: objects hold 1..6 (2 in the error output), one checkpoint after all are durable', async () => {
      const h = harness({
        bufferSizeBytes: 1024 * 1024,
        prefix: 't=!{partitionKeyFromQuery:t}/',
        partitionKeys: { t: 'data.type' },
      });
      h.push([record(1), deepRecord(2, 20_000), ...records(3, 6)]);
      await h.end();
      const inObjects = h.written.flatMap((p) =>
        p.chunks
          .filter((c) => c.byteLength > 1)
          .map((c) => ({ kind: p.kind, type: p.errorOutputType, text: new TextDecoder().decode(c) })),
      );
      const data = inObjects.filter((o) => o.kind === 'data').map((o) => JSON.parse(o.text).eventId);
      expect(data).toEqual(['ev-1', 'ev-3', 'ev-4', 'ev-5', 'ev-6']);
      const errors = inObjects.filter((o) => o.kind === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.type).toBe('partitioning-failed');
      expect(JSON.parse(errors[0]!.text).errorMessage).toContain('RangeError');
      // The checkpoint moves once, past 6, after both objects were written.
      expect(h.log.filter((l) => !l.startsWith('release'))).toEqual([
        'prepare 006',
        'write 001-006 (5)',
        'write 002-002 (1)',
        'checkpoint 006',
      ]);
      expect(h.events.some((e) => e.type === 'SHARD_FAILED' || e.type === 'ERROR')).toBe(false);
    });

    it('a hook that throws fails the shard: nothing more written or checkpointed, the session failed with the error', async () => {
      const boom = new Error('hook failed');
      const h = harness({
        bufferSizeBytes: 1024,
        hooks: {
          rangeSealed: (info) => {
            if (info.first.sequenceNumber.endsWith('013')) throw boom;
          },
        },
      });
      h.push(records(1, 12));
      h.push(records(13, 30));
      await h.archiver.done;
      // The first range (1-12) is durable; the second one's hook threw: nothing past 12 is checkpointed.
      expect(h.log.filter((l) => l.startsWith('checkpoint'))).toEqual(['checkpoint 012']);
      expect(h.written.map((p) => p.last.sequenceNumber.slice(-3))).toEqual(['012']);
      expect(h.log.at(-1)).toBe('fail hook failed');
      const failed = h.events.filter((e) => e.type === 'SHARD_FAILED');
      expect(failed).toEqual([{ type: 'SHARD_FAILED', shardId: SHARD, recordCount: 12, error: boom }]);
    });

    it('a non-retriable pending-checkpoint error fails the shard (the lease is released, not kept and renewed)', async () => {
      const h = harness({ bufferSizeBytes: 1024 * 1024, bufferIntervalMs: 0 });
      const refused = Object.assign(new Error('ValidationException'), { retriable: false });
      h.failPrepare(refused);
      h.push(records(1, 5));
      await h.archiver.done;
      expect(h.log).toEqual(['fail ValidationException']);
      expect(
        h.events.filter((e) => e.type === 'SHARD_FAILED').map((e) => (e as { error: Error }).error),
      ).toEqual([refused]);
      expect(h.events.some((e) => e.type === 'RANGE_ABANDONED')).toBe(false);
    });

    it('a router that throws fails the shard rather than skipping the record', async () => {
      const base = createRecordRouter({
        recordContent: 'envelope',
        invalidRecordPolicy: 'error-output',
        partitionQueries: new Map(),
      });
      const h = harness(
        { bufferSizeBytes: 1024 * 1024 },
        {},
        {
          route: (r) => {
            if (r.sequenceNumber.endsWith('002')) throw new TypeError('cannot route');
            return base(r);
          },
        },
      );
      h.push(records(1, 6));
      await h.end();
      expect(h.log).toEqual(['fail cannot route']);
      expect(h.events.map((e) => e.type)).toEqual(['SHARD_FAILED']);
    });

    it('a hook that throws after the objects are written: no checkpoint (the next owner redoes the range, same keys)', async () => {
      const boom = new Error('objectsWritten hook failed');
      const h = harness({
        bufferSizeBytes: 1024 * 1024,
        hooks: { objectsWritten: () => Promise.reject(boom) },
      });
      h.push(records(1, 5));
      await h.end();
      expect(h.log).toEqual(['prepare 005', 'write 001-005 (5)', 'fail objectsWritten hook failed']);
    });
  });
});

describe('ShardArchiver: record-count buffering', () => {
  it('closes the buffer at bufferRecords records (seal reason record-count), beside size and interval', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024, bufferRecords: 7 });
    h.push(records(1, 10));
    h.push(records(11, 20));
    await h.end();
    expect(h.log.filter((l) => l.startsWith('write'))).toEqual([
      'write 001-007 (7)',
      'write 008-014 (7)',
      'write 015-020 (6)',
    ]);
    const reasons = h.events.flatMap((e) => (e.type === 'RANGE_SEALED' ? [e.reason] : []));
    expect(reasons).toEqual(['record-count', 'record-count', 'stop']);
  });

  it('is off by default: ranges close by size only', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 });
    h.push(records(1, 50));
    await h.end();
    expect(h.log.filter((l) => l.startsWith('write'))).toEqual(['write 001-050 (50)']);
  });

  it('the size bound wins when both are reached by the same record (one seal)', async () => {
    const size = record(1).data.byteLength;
    const h = harness({ bufferSizeBytes: 1024, bufferRecords: Math.ceil(1024 / size) });
    h.push(records(1, 24));
    await h.end();
    const reasons = h.events.flatMap((e) => (e.type === 'RANGE_SEALED' ? [e.reason] : []));
    expect(reasons).toEqual(['size', 'size']);
  });
});

describe('ShardArchiver: transform', () => {
  const decoder = new TextDecoder();
  /** Records 1–8: i%4 = 1 Ok (new data), 2 Dropped, 3 ProcessingFailed, 0 throws. */
  const mixed = (r: KinesisRecord): TransformResult => {
    const i = Number(r.sequenceNumber.slice(-3));
    if (i % 4 === 1) {
      return {
        result: 'Ok',
        data: JSON.stringify({ eventId: `ev-${i}`, receivedAt: '2026-11-25T16:00:00.000Z', data: { t: i } }),
      };
    }
    if (i % 4 === 2) return { result: 'Dropped' };
    if (i % 4 === 3) return { result: 'ProcessingFailed', reason: `bad record ${i}` };
    throw new RangeError(`cannot transform ${i}`);
  };
  const lines = (h: ReturnType<typeof harness>, kind: 'data' | 'error') =>
    h.written
      .filter((p) => p.kind === kind)
      .flatMap((p) => p.chunks.filter((c) => c.byteLength > 1).map((c) => JSON.parse(decoder.decode(c))));

  it('Ok data is archived, Dropped in no object, ProcessingFailed and throws go to processing-failed; the checkpoint passes all', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024, transform: { version: 'v1', transform: mixed } });
    h.push(records(1, 8));
    await h.end();
    expect(lines(h, 'data')).toEqual([
      { eventId: 'ev-1', receivedAt: '2026-11-25T16:00:00.000Z', data: { t: 1 } },
      { eventId: 'ev-5', receivedAt: '2026-11-25T16:00:00.000Z', data: { t: 5 } },
    ]);
    const errors = lines(h, 'error');
    expect(errors.map((e) => [e.sequenceNumber.slice(-3), e.errorCode, e.errorMessage])).toEqual([
      ['003', 'Transform.ProcessingFailed', 'bad record 3'],
      ['004', 'Transform.FunctionError', 'the transform failed: RangeError: cannot transform 4'],
      ['007', 'Transform.ProcessingFailed', 'bad record 7'],
      ['008', 'Transform.FunctionError', 'the transform failed: RangeError: cannot transform 8'],
    ]);
    // The error line holds the record as read (base64), not a transformed one.
    expect(Buffer.from(errors[0].rawData, 'base64').equals(Buffer.from(record(3).data))).toBe(true);
    expect(h.written.every((p) => p.kind === 'data' || p.errorOutputType === 'processing-failed')).toBe(true);
    expect(h.log.filter((l) => l.startsWith('prepare') || l.startsWith('checkpoint'))).toEqual([
      'prepare 008',
      'checkpoint 008',
    ]);
    // Every record taken is counted once: 2 written, 4 error output, 2 dropped, none still buffered.
    expect({
      objects: h.objectRecords.n,
      dropped: h.dropped.n,
      buffered: h.archiver.buffered.records,
    }).toEqual({
      objects: 6,
      dropped: 2,
      buffered: 0,
    });
    expect(h.events).toContainEqual({
      type: 'RECORDS_DROPPED',
      shardId: SHARD,
      last: { sequenceNumber: record(8).sequenceNumber, subSequenceNumber: 0 },
      recordCount: 2,
    });
  });

  it('dropped records count as buffered until their range is durable, then as dropped (never both)', async () => {
    const overlaps: string[] = [];
    let h: ReturnType<typeof harness> | undefined;
    const check = (point: string) => (info: S3SinkHookInfo) => {
      const taken = Number(info.last.sequenceNumber.slice(-3));
      const sum = h!.archiver.buffered.records + h!.objectRecords.n + h!.dropped.n;
      if (sum !== taken) overlaps.push(`${point} ${taken}: ${sum}`);
    };
    h = harness({
      bufferSizeBytes: 1024 * 1024,
      bufferRecords: 3,
      transform: { version: 'v1', transform: mixed },
      hooks: {
        rangeSealed: check('sealed'),
        pendingWritten: check('prepared'),
        objectsWritten: check('objects-written'),
        checkpointed: check('checkpointed'),
      },
    });
    h.push(records(1, 12));
    await h.end();
    expect(overlaps).toEqual([]);
    expect(h.dropped.n).toBe(3);
  });

  it('a range of dropped records only is prepared and checkpointed with no object', async () => {
    const h = harness({
      bufferSizeBytes: 1024 * 1024,
      transform: { version: 'v1', transform: () => ({ result: 'Dropped' }) },
    });
    h.push(records(1, 5));
    await h.end();
    expect(h.log).toEqual(['prepare 005', 'checkpoint 005']);
    expect(h.dropped.n).toBe(5);
    expect(h.archiver.buffered).toEqual({ records: 0, bytes: 0, openedAtMs: undefined });
  });

  it('a synchronous transform runs without a microtask per record; a promise gives the same objects', async () => {
    const order: string[] = [];
    const sync = harness({
      bufferSizeBytes: 1024 * 1024,
      transform: {
        version: 'v1',
        transform: (r) => {
          const i = r.sequenceNumber.slice(-3);
          if (i === '001') queueMicrotask(() => order.push('microtask'));
          order.push(i);
          return mixed(r);
        },
      },
    });
    sync.push(records(1, 5));
    await sync.end();
    // Every record of the batch was transformed before the first microtask could run.
    expect(order).toEqual(['001', '002', '003', '004', '005', 'microtask']);

    const async = harness({
      bufferSizeBytes: 1024 * 1024,
      transform: {
        version: 'v1',
        transform: async (r) => {
          await new Promise((resolve) => setTimeout(resolve, Number(r.sequenceNumber.slice(-1)) % 3));
          return mixed(r);
        },
      },
    });
    async.push(records(1, 5));
    await async.end();
    const view = (h: ReturnType<typeof harness>) =>
      h.written.map((p) => [p.key, p.recordCount, p.uncompressedBytes]);
    expect(view(async)).toEqual(view(sync));
    expect(async.log).toEqual(sync.log);
  });

  it('an invalid result or a rejection goes to processing-failed (Transform.FunctionError)', async () => {
    const h = harness({
      bufferSizeBytes: 1024 * 1024,
      transform: {
        version: 'v1',
        transform: (r) => {
          const i = r.sequenceNumber.slice(-1);
          if (i === '1') return { result: 'Ok' } as never;
          if (i === '2') return undefined as never;
          return Promise.reject(new Error('lookup failed'));
        },
      },
    });
    h.push(records(1, 3));
    await h.end();
    expect(lines(h, 'error').map((e) => [e.errorCode, e.errorMessage])).toEqual([
      ['Transform.FunctionError', 'the transform returned Ok without data (bytes or a string)'],
      [
        'Transform.FunctionError',
        "the transform returned undefined, not { result: 'Ok' | 'Dropped' | 'ProcessingFailed' }",
      ],
      ['Transform.FunctionError', 'the transform failed: Error: lookup failed'],
    ]);
  });

  it('transformed data that is not an envelope: processing-failed with that data (default policy), or archived as it is (archive)', async () => {
    const plain = { version: 'v1', transform: () => ({ result: 'Ok' as const, data: 'plain text' }) };
    const h = harness({ bufferSizeBytes: 1024 * 1024, transform: plain });
    h.push(records(1, 2));
    await h.end();
    const errors = lines(h, 'error');
    expect(errors.map((e) => [e.errorCode, Buffer.from(e.rawData, 'base64').toString('utf8')])).toEqual([
      ['EnvelopeDecodeError', 'plain text'],
      ['EnvelopeDecodeError', 'plain text'],
    ]);
    const archived = harness({
      bufferSizeBytes: 1024 * 1024,
      transform: plain,
      invalidRecordPolicy: 'archive',
    });
    archived.push(records(1, 2));
    await archived.end();
    expect(
      archived.written.flatMap((p) => p.chunks.filter((c) => c.byteLength > 1).map((c) => decoder.decode(c))),
    ).toEqual(['plain text', 'plain text']);
  });

  it('routes the transformed data: partition queries see the new bytes', async () => {
    const h = harness({
      bufferSizeBytes: 1024 * 1024,
      prefix: 't=!{partitionKeyFromQuery:t}/',
      partitionKeys: { t: 'data.type' },
      transform: {
        version: 'v1',
        transform: (r) => {
          const envelope = JSON.parse(decoder.decode(r.data));
          envelope.data.type = envelope.data.i % 2 === 0 ? 'even' : 'odd';
          return { result: 'Ok', data: new TextEncoder().encode(JSON.stringify(envelope)) };
        },
      },
    });
    h.push(records(1, 4));
    await h.end();
    expect(h.written.map((p) => [p.key.split('/')[0], p.recordCount])).toEqual([
      ['t=odd', 2],
      ['t=even', 2],
    ]);
  });
});

describe('ShardArchiver: settings fingerprint', () => {
  /** The pending state a previous owner wrote for records 11–20 with fingerprint `fp`. */
  const previousOwner = (fp: string | undefined) => {
    const probe = harness({ bufferSizeBytes: 1024 * 1024 });
    const plans = planObjects(
      {
        shardId: SHARD,
        first: record(11),
        last: record(20),
        records: records(11, 20),
        routes: records(11, 20).map((r) => probe.route(r)),
        inputBytes: 0,
      },
      probe.layout,
    );
    const pending: PendingRange = {
      first: record(11),
      last: record(20),
      recordCount: 10,
      objectCount: plans.length,
      keysSha256: keysDigest(plans),
      multipartUploads: [],
      ...(fp === undefined ? {} : { settingsFingerprint: fp }),
    };
    return { pendingCheckpoint: record(20), pendingCheckpointState: encodePendingRange(pending) };
  };

  it('is recorded with every prepared range', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 }, {}, { settingsFingerprint: 'fp-today' });
    h.push(records(1, 5));
    await h.end();
    expect(h.states.map((s) => decodePendingRange(s).settingsFingerprint)).toEqual(['fp-today']);
  });

  it('a redo prepared with another fingerprint is reported once and proceeds with today’s settings, recording today’s fingerprint', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 }, previousOwner('fp-then'), {
      settingsFingerprint: 'fp-today',
    });
    h.push(records(11, 30));
    await h.end();
    const changes = h.events.filter((e) => e.type === 'REDO_SETTINGS_CHANGED');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      shardId: SHARD,
      preparedFingerprint: 'fp-then',
      currentFingerprint: 'fp-today',
      last: { sequenceNumber: record(20).sequenceNumber, subSequenceNumber: 0 },
    });
    expect(h.log).toEqual([
      'prepare 020',
      'write 011-020 (10)',
      'checkpoint 020',
      'prepare 030',
      'write 021-030 (10)',
      'checkpoint 030',
    ]);
    // The redo's own pending state carries today's fingerprint: a crash during it redoes without a mismatch.
    expect(h.states.map((s) => decodePendingRange(s).settingsFingerprint)).toEqual(['fp-today', 'fp-today']);
  });

  it('a crash during that redo: the next owner finds today’s fingerprint, no second report (never a loop)', async () => {
    const h = harness({ bufferSizeBytes: 1024 * 1024 }, previousOwner('fp-today'), {
      settingsFingerprint: 'fp-today',
    });
    h.push(records(11, 20));
    await h.end();
    expect(h.events.some((e) => e.type === 'REDO_SETTINGS_CHANGED')).toBe(false);
    expect(h.log).toEqual(['prepare 020', 'write 011-020 (10)', 'checkpoint 020']);
  });

  it('a state without a fingerprint (written before fingerprints) decodes and is redone with nothing to compare', async () => {
    const state = previousOwner(undefined);
    expect(JSON.parse(new TextDecoder().decode(state.pendingCheckpointState)).fp).toBeUndefined();
    expect(decodePendingRange(state.pendingCheckpointState).settingsFingerprint).toBeUndefined();
    const h = harness({ bufferSizeBytes: 1024 * 1024 }, state, { settingsFingerprint: 'fp-today' });
    h.push(records(11, 20));
    await h.end();
    expect(h.events.some((e) => e.type === 'REDO_SETTINGS_CHANGED')).toBe(false);
    expect(h.log).toEqual(['prepare 020', 'write 011-020 (10)', 'checkpoint 020']);
  });
});
