import { encodeEnvelope } from '@shardline/ingest';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import type { S3SinkMetrics } from '../../src/index.js';
import {
  checkExactlyOnce,
  createStreamAndBucket,
  defaultKeyPattern,
  putEvents,
  readObjects,
  until,
} from '../helpers/archive.js';
import { useTestSinks } from '../helpers/sinks.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
const sink = useTestSinks(local);

/**
 * The stop rule of `pnpm bench s3-sink` (and of any caller that drains a known number of records): the
 * sink holds every record once what it buffers plus what it wrote reaches them; `stop()` then closes the
 * last buffers into the last objects.
 */
const holdsEvery = (m: S3SinkMetrics, records: number) =>
  m.bufferedRecords + m.recordsWritten + m.errorRecords >= records;

describe('s3-sink: stop and metrics', () => {
  it('a range held after its objects are written counts once: stopping when the sink holds every record writes every record', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'stopm', 1);
    // Lot A: 20 records whose bytes are exactly one buffer, so the 20th seals the first range by size.
    const lotA = Array.from({ length: 20 }, (_, i) =>
      encodeEnvelope({ eventId: `a-${i}`, data: { i, pad: 'x'.repeat(1000) } }),
    );
    const bufferSizeBytes = lotA.reduce((n, b) => n + b.byteLength, 0);
    const lotB = 10; // put after the first range's objects are written: not read yet at that point
    const total = lotA.length + lotB;

    let reachedHold: () => void = () => {};
    const holdReached = new Promise<void>((resolve) => {
      reachedHold = resolve;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holds = 0;
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('stopm-app'),
      bufferSizeBytes,
      bufferIntervalMs: 900_000, // ranges close by size, and at stop()
      hooks: {
        // The named point: every object of the range is durable, its checkpoint not written yet.
        objectsWritten: async () => {
          holds += 1;
          if (holds !== 1) return;
          reachedHold();
          await held;
        },
      },
    });
    const written = await putEvents(kinesis, stream.streamName, lotA.length, {
      prefix: 'a',
      raw: (i) => lotA[i],
    });
    await s.start();
    await holdReached;

    const atHold = s.metrics();
    // The stop rule must not fire while lot B is unread. (It did: 20 buffered + 20 written ≥ 30.)
    const stoppedEarly = holdsEvery(atHold, total);
    if (stoppedEarly) void s.stop(); // as the benchmark did: lot B is then never read
    written.push(...(await putEvents(kinesis, stream.streamName, lotB, { prefix: 'b' })));
    release();

    await until(() => s.state === 'stopped' || holdsEvery(s.metrics(), total), 60_000, 'every record held');
    await s.stop();
    // The independent ledger: what S3 holds, against what was put.
    const objects = await readObjects(s3, bucket);
    expect(checkExactlyOnce(objects, written, defaultKeyPattern(stream.streamName))).toEqual([]);
    expect(stoppedEarly).toBe(false);
    // Held between the objects and the checkpoint: the 20 records were written, and no longer buffered.
    expect({ buffered: atHold.bufferedRecords, written: atHold.recordsWritten }).toEqual({
      buffered: 0,
      written: 20,
    });
    const m = s.metrics();
    expect({ buffered: m.bufferedRecords, written: m.recordsWritten, errors: m.errorRecords }).toEqual({
      buffered: 0,
      written: total,
      errors: 0,
    });
    const reasons = events.flatMap((e) =>
      e.type === 'RANGE_SEALED' ? [`${e.reason} ${e.recordCount}`] : [],
    );
    expect(reasons).toEqual(['size 20', `stop ${lotB}`]);
  });
});
