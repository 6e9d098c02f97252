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
  encodePendingRange,
  keysDigest,
  type ObjectPlan,
  type PendingRange,
  planObjects,
} from '../../src/objects/planObjects.js';
import { createRecordRouter, type RecordRoute } from '../../src/routing/RecordRouter.js';
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
  overrides: { route?: (r: KinesisRecord) => RecordRoute } = {},
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
      if (prepareError) throw prepareError;
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
  const route =
    overrides.route ??
    createRecordRouter({
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
      writer,
      emit: (e) => events.push(e),
      hardStopSignal: new AbortController().signal,
      isStopping: () => true,
      onObjectWritten: (plan) => {
        objectRecords.n += plan.recordCount;
      },
    },
  );
  archiver.start();
  return {
    archiver,
    log,
    events,
    objectRecords,
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
