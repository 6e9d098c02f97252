import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { createConsumer, silentLogger } from '@shardline/consumer-core';
import { dynamoDBClientConfig, kinesisClientConfig, s3ClientConfig, uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import {
  checkExactlyOnce,
  createStreamAndBucket,
  defaultKeyPattern,
  putEvents,
  readObjects,
  until,
  type WrittenEvent,
} from '../helpers/archive.js';
import { useTestSinks } from '../helpers/sinks.js';

const local = useLocalTwin();
const { kinesis, dynamodb, s3 } = local;
const sink = useTestSinks(local);
const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`s3-sink behaviours: SEED=${seed}`);

/** Every record of the ledger exactly once across data and error objects, counted by sequence number. */
function sequenceCounts(objects: Awaited<ReturnType<typeof readObjects>>, written: readonly WrittenEvent[]) {
  const byId = new Map(written.map((w) => [w.eventId, w]));
  const counts = new Map<string, number>();
  for (const o of objects) {
    if (o.key.startsWith('manifests/')) continue;
    for (const line of o.lines) {
      const value = JSON.parse(line) as { eventId?: string; sequenceNumber?: string; errorCode?: string };
      const seq =
        value.errorCode !== undefined ? value.sequenceNumber : byId.get(value.eventId ?? '')?.sequenceNumber;
      if (seq !== undefined) counts.set(seq, (counts.get(seq) ?? 0) + 1);
    }
  }
  return written
    .filter((w) => counts.get(w.sequenceNumber) !== 1)
    .map((w) => `${w.eventId}: ${counts.get(w.sequenceNumber) ?? 0}`);
}

describe('s3-sink behaviours', () => {
  it('dynamic partitioning: records routed by a JSON field; malformed JSON and missing fields under the error prefix with the reason', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'part', 2);
    const types = ['view', 'cart', 'purchase'];
    const written = await putEvents(kinesis, stream.streamName, 900, {
      data: (i) => (i % 50 === 7 ? { no_type: i } : { i, event_type: types[i % 3] }),
      raw: (i) => (i % 100 === 13 ? new TextEncoder().encode(`not json ${i}`) : undefined),
    });
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('part-app'),
      prefix: 'events/type=!{partitionKeyFromQuery:type}/!{timestamp:yyyy/MM/dd}/',
      partitionKeys: { type: 'data.event_type' },
      maxActivePartitions: 4, // three types and two error outputs: the limit is met now and then
      bufferSizeBytes: 16 * 1024,
    });
    await s.start();
    await until(() => s.metrics().recordsWritten + s.metrics().errorRecords >= 900, 30_000, 'every record');
    await s.stop();
    const objects = await readObjects(s3, bucket);
    expect(sequenceCounts(objects, written)).toEqual([]);
    const byId = new Map(written.map((w) => [w.eventId, w]));
    for (const o of objects.filter((x) => x.key.startsWith('events/'))) {
      const type = /^events\/type=([a-z]+)\/\d{4}\/\d{2}\/\d{2}\/.+-shardId-\d+-\d+$/.exec(o.key)?.[1];
      expect(types, o.key).toContain(type);
      for (const line of o.lines)
        expect((JSON.parse(line) as { data: { event_type: string } }).data.event_type).toBe(type);
    }
    const errors = objects.filter((o) => o.key.startsWith('errors/'));
    const partitioning = errors
      .filter((o) => o.key.startsWith('errors/partitioning-failed/'))
      .flatMap((o) => o.lines);
    const processing = errors
      .filter((o) => o.key.startsWith('errors/processing-failed/'))
      .flatMap((o) => o.lines);
    expect(partitioning.length).toBe(
      written.filter((w) => Number(w.eventId.split('-')[1]) % 50 === 7).length,
    );
    expect(processing.length).toBe(9);
    for (const line of partitioning) {
      const e = JSON.parse(line) as { errorMessage: string; rawData: string; sequenceNumber: string };
      expect(e.errorMessage).toContain('data.event_type');
      const eventId = (JSON.parse(Buffer.from(e.rawData, 'base64').toString()) as { eventId: string })
        .eventId;
      expect(byId.get(eventId)?.sequenceNumber).toBe(e.sequenceNumber);
    }
    for (const line of processing) {
      const e = JSON.parse(line) as { errorMessage: string; rawData: string };
      expect(e.errorMessage).toContain('Not an event envelope');
      expect(Buffer.from(e.rawData, 'base64').toString()).toMatch(/^not json \d+$/);
    }
    expect(events.some((e) => e.type === 'RANGE_SEALED' && e.reason === 'partition-limit')).toBe(true);
  });

  it('S3 outage: retries with backoff, stops fetching (memory bounded), then catches up with nothing lost or doubled', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'outage', 1);
    // Injected fault: the S3 client's send fails while `isDown` (below the SDK's retries, which are inside send).
    const faulty = new S3Client(s3ClientConfig(local.info));
    const send = faulty.send.bind(faulty) as (c: unknown, o?: unknown) => Promise<unknown>;
    let isDown = false;
    let failedCalls = 0;
    (faulty as { send: unknown }).send = (command: unknown, options?: unknown) => {
      if (isDown) {
        failedCalls += 1;
        return Promise.reject(
          Object.assign(new Error('injected: S3 unavailable'), { name: 'ServiceUnavailable' }),
        );
      }
      return send(command, options);
    };
    // Counts GetRecords calls and the bytes they fetched, to see the reader stop.
    const counted = new KinesisClient(kinesisClientConfig(local.info));
    const kSend = counted.send.bind(counted) as (c: unknown, o?: unknown) => Promise<unknown>;
    let getRecordsCalls = 0;
    let fetchedBytes = 0;
    (counted as { send: unknown }).send = async (command: unknown, options?: unknown) => {
      const out = await kSend(command, options);
      if (command instanceof GetRecordsCommand) {
        getRecordsCalls += 1;
        for (const r of (out as { Records?: { Data?: Uint8Array }[] }).Records ?? [])
          fetchedBytes += r.Data?.length ?? 0;
      }
      return out;
    };
    const bufferSizeBytes = 16 * 1024;
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('outage-app'),
      s3Client: faulty,
      kinesisClient: counted,
      bufferSizeBytes,
      retryInitialDelayMs: 50,
      retryMaxDelayMs: 400,
      consumer: { maxRecordsPerFetch: 200 },
    });
    const written = await putEvents(kinesis, stream.streamName, 200, { prefix: 'a', padBytes: 2048 });
    await s.start();
    await until(() => s.metrics().recordsWritten >= 200, 20_000, 'first records');
    isDown = true;
    const fetchedBefore = fetchedBytes;
    // About 12.5 MiB during the outage: more than the consumer may buffer (2 × 16 KiB + 10 MiB).
    written.push(...(await putEvents(kinesis, stream.streamName, 6000, { prefix: 'b', padBytes: 2048 })));
    await until(() => failedCalls > 5, 10_000, 'the outage to bite');
    const bound = 2 * bufferSizeBytes + 10 * 1024 * 1024 + 200 * 2200;
    await until(
      () => fetchedBytes - fetchedBefore > bound - 400 * 2200,
      20_000,
      'the reader to fill the buffer',
    );
    await new Promise((r) => setTimeout(r, 300));
    const callsBefore = getRecordsCalls;
    let maxBuffered = 0;
    for (let i = 0; i < 10; i++) {
      maxBuffered = Math.max(maxBuffered, s.metrics().bufferedBytes);
      await new Promise((r) => setTimeout(r, 100));
    }
    // The reader stopped: no fetch while the range cannot be written (polling would make ~10 calls)...
    expect(getRecordsCalls - callsBefore).toBe(0);
    // ...after fetching no more than the consumer's buffer (plus one answer), of 12.5 MiB available.
    expect(fetchedBytes - fetchedBefore).toBeLessThanOrEqual(bound);
    // The sink's own buffer: the range being written (one buffer and at most one record more).
    expect(maxBuffered).toBeLessThanOrEqual(bufferSizeBytes + 2300);
    isDown = false;
    await until(() => s.metrics().recordsWritten >= 6200, 40_000, 'catching up');
    await s.stop();
    const objects = await readObjects(s3, bucket);
    expect(checkExactlyOnce(objects, written, defaultKeyPattern(stream.streamName))).toEqual([]);
    expect(events.filter((e) => e.type === 'RETRY').length).toBeGreaterThan(3);
    expect(s.metrics().uploadErrors).toBeGreaterThan(3);
    faulty.destroy();
    counted.destroy();
  });

  it('two sink workers plus an unrelated consumer application on one stream: S3 holds every record once, the other app sees every record', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'two', 4);
    const applicationName = uniqueName('two-app');
    // Two workers of one application: the same options but for the worker id.
    const worker = (workerId: string) =>
      sink({
        streamName: stream.streamName,
        bucket,
        applicationName,
        bufferSizeBytes: 8 * 1024,
        consumer: { workerId },
      });
    const a = worker('a');
    const b = worker('b');
    const other = createConsumer({
      streamName: stream.streamName,
      applicationName: uniqueName('other-app'),
      kinesisClient: kinesis,
      dynamoDBClient: dynamodb,
      initialPosition: 'TRIM_HORIZON',
      idleTimeBetweenReadsMs: 100,
      logger: silentLogger,
    });
    const seenByOther = new Set<string>();
    await other.run({
      processBatch: async (batch) => {
        for (const r of batch.records)
          seenByOther.add((JSON.parse(new TextDecoder().decode(r.data)) as { eventId: string }).eventId);
      },
    });
    await a.sink.start();
    await b.sink.start();
    const written = await putEvents(kinesis, stream.streamName, 1500);
    await until(
      () =>
        a.sink.metrics().recordsWritten + b.sink.metrics().recordsWritten >= 1500 && seenByOther.size >= 1500,
      40_000,
      'both applications done',
    );
    await Promise.all([a.sink.stop(), b.sink.stop(), other.stop()]);
    const objects = await readObjects(s3, bucket);
    expect(checkExactlyOnce(objects, written, defaultKeyPattern(stream.streamName))).toEqual([]);
    expect(seenByOther.size).toBe(1500);
  });

  it('two workers overlapping on one shard (a zombie cut off from DynamoDB resumes its upload after the takeover): the same bytes under the same key, no duplicate', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'zombie', 1);
    const applicationName = uniqueName('zombie-app');
    const written = await putEvents(kinesis, stream.streamName, 400);
    // Worker A: its lease table client fails on cue (a network cut), and its write path is held at the
    // named point "pending written" until the test releases it.
    const cutClient = new DynamoDBClient(dynamoDBClientConfig(local.info));
    const dSend = cutClient.send.bind(cutClient) as (c: unknown, o?: unknown) => Promise<unknown>;
    let isCut = false;
    (cutClient as { send: unknown }).send = (command: unknown, options?: unknown) =>
      isCut
        ? Promise.reject(Object.assign(new Error('injected: cut off'), { name: 'NetworkingError' }))
        : dSend(command, options);
    let reachedA = false;
    let releaseA!: () => void;
    const heldA = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    const failover = { failoverTimeMs: 3_000, leaseTakeIntervalMs: 500 };
    const a = sink({
      streamName: stream.streamName,
      bucket,
      applicationName,
      dynamoDBClient: cutClient,
      bufferSizeBytes: 1024 * 1024,
      bufferIntervalMs: 300,
      consumer: { ...failover, workerId: 'zombie-a' },
      hooks: {
        pendingWritten: async () => {
          if (reachedA) return;
          reachedA = true;
          isCut = true;
          await heldA;
        },
      },
    });
    await a.sink.start();
    await until(() => reachedA, 20_000, 'worker A at "pending written"');
    const b = sink({
      streamName: stream.streamName,
      bucket,
      applicationName,
      bufferSizeBytes: 1024 * 1024,
      bufferIntervalMs: 300,
      consumer: { ...failover, workerId: 'taker-b' },
    });
    await b.sink.start();
    await until(() => b.sink.metrics().recordsWritten >= 400, 30_000, 'worker B redoes the range');
    expect(b.events.some((e) => e.type === 'RANGE_SEALED' && e.reason === 'redo')).toBe(true);
    // A wakes up and writes the range it had prepared before the cut: the same object, byte for byte.
    releaseA();
    await until(() => a.events.some((e) => e.type === 'OBJECT_WRITTEN'), 20_000, 'the zombie write');
    await until(
      () => a.events.some((e) => e.type === 'RANGE_CHECKPOINTED' || e.type === 'RANGE_ABANDONED'),
      20_000,
      'the zombie checkpoint',
    );
    isCut = false;
    await b.sink.stop();
    await a.sink.stop();
    const objects = await readObjects(s3, bucket);
    expect(checkExactlyOnce(objects, written, defaultKeyPattern(stream.streamName))).toEqual([]);
    const dataObjects = objects.filter((o) => !o.key.startsWith('manifests/'));
    const keyOfA = a.events.find((e) => e.type === 'OBJECT_WRITTEN');
    expect(dataObjects.map((o) => o.key)).toContain(keyOfA?.type === 'OBJECT_WRITTEN' ? keyOfA.key : '');
    for (const o of dataObjects) {
      const manifest = JSON.parse(
        objects.find((m) => m.key === `manifests/${o.key}.json`)!.body.toString(),
      ) as { sha256: string };
      expect(createHash('sha256').update(o.body).digest('hex')).toBe(manifest.sha256);
    }
    cutClient.destroy();
  });
});
