import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import {
  checkExactlyOnce,
  createStreamAndBucket,
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

const COUNT = 600;
const ZONE = 'America/New_York';
/** 03:00 UTC on 1 November 2026: six UTC hours over New York's fall-back night (01:00 happens twice). */
const START_MS = Date.UTC(2026, 10, 1, 3);
const STEP_MS = (6 * 3_600_000) / COUNT;

/** Event i's time: a permutation of the six hours, so records arrive out of event-time order. */
const eventTimeMs = (i: number) => START_MS + ((i * 7919) % COUNT) * STEP_MS;
/** Every 50th event has no time; the others carry it as ISO 8601, epoch seconds or epoch milliseconds. */
const hasTime = (i: number) => i % 50 !== 49;
function eventTime(i: number): string | number {
  const ms = eventTimeMs(i);
  return i % 3 === 0 ? new Date(ms).toISOString() : i % 3 === 1 ? ms / 1000 : ms;
}

/** The test's own rendering of a New York hour, with Intl (not the sink's code). */
const hourFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
});
function localHour(ms: number): string {
  const p = Object.fromEntries(hourFormat.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}/${p.month}/${p.day}/${String(Number(p.hour) % 24).padStart(2, '0')}`;
}

describe('s3-sink event-time partitioning', () => {
  it('splits a range spanning several event hours into one object per New York hour, every record exactly once', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'evtime', 2);
    const written = await putEvents(kinesis, stream.streamName, COUNT, {
      data: (i) => (hasTime(i) ? { i, occurred_at: eventTime(i) } : { i }),
    });
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('evtime-app'),
      prefix: 'events/!{timestamp:yyyy/MM/dd/HH}/',
      timeField: 'data.occurred_at',
      timeZone: ZONE,
      // One range per shard: nothing closes a buffer before stop().
      bufferIntervalMs: 900_000,
      bufferSizeBytes: 64 * 1024 * 1024,
    });
    await s.start();
    await until(() => s.metrics().bufferedRecords === COUNT, 60_000, 'every record read into the buffers');
    await s.stop();

    // What was put (the ledger, `written`) against what S3 holds.
    const index = (eventId: string) => Number(eventId.split('-').pop());
    const objects = await readObjects(s3, bucket);
    const dataObjects = eventIdsOf(objects).filter((o) => o.key.startsWith('events/'));
    const keyPattern = new RegExp(
      `^events/(?<hour>\\d{4}/\\d{2}/\\d{2}/\\d{2})/${stream.streamName}-(?<shard>shardId-\\d+)-(?<seq>\\d+)$`,
    );
    const timed = written.filter((w) => hasTime(index(w.eventId)));
    expect(
      checkExactlyOnce(
        objects.filter((o) => o.key.startsWith('events/')),
        timed,
        keyPattern,
      ),
    ).toEqual([]);

    // Each record under its own event hour (New York time), never its object's first record's.
    for (const { key, eventIds } of dataObjects) {
      const hour = keyPattern.exec(key)!.groups!.hour!;
      for (const id of eventIds) expect(localHour(eventTimeMs(index(id))), `${id} in ${key}`).toBe(hour);
    }

    // One range per shard (sealed at stop), so one object per (shard, local hour) of the ledger.
    const sealed = events.filter((e) => e.type === 'RANGE_SEALED');
    expect(sealed.map((e) => e.shardId).sort()).toEqual([...new Set(written.map((w) => w.shardId))].sort());
    const expectedBuckets = new Set(
      timed.map((w) => `${w.shardId} ${localHour(eventTimeMs(index(w.eventId)))}`),
    );
    const actualBuckets = dataObjects.map((o) => {
      const g = keyPattern.exec(o.key)!.groups!;
      return `${g.shard} ${g.hour}`;
    });
    expect(actualBuckets.sort()).toEqual([...expectedBuckets].sort());
    // Six UTC hours are five New York hours: 23, 00, 01 (twice: EDT then EST), 02, 03.
    expect(new Set(actualBuckets.map((b) => b.split(' ')[1])).size).toBe(5);
    // The repeated 01:00 hour: one object per shard holds records of both UTC hours.
    for (const { key, eventIds } of dataObjects.filter((o) => o.key.includes('/2026/11/01/01/'))) {
      const utcHours = new Set(eventIds.map((id) => new Date(eventTimeMs(index(id))).getUTCHours()));
      expect([...utcHours].sort(), key).toEqual([5, 6]);
    }

    // Records without a time: each once in the error output, with the reason.
    const errorLines = objects
      .filter((o) => o.key.startsWith('errors/partitioning-failed/'))
      .flatMap((o) => o.lines.map((l) => JSON.parse(l) as { errorMessage: string; rawData: string }));
    const errorIds = errorLines.map(
      (l) => (JSON.parse(Buffer.from(l.rawData, 'base64').toString()) as { eventId: string }).eventId,
    );
    expect(errorIds.sort()).toEqual(
      written
        .filter((w) => !hasTime(index(w.eventId)))
        .map((w) => w.eventId)
        .sort(),
    );
    expect(errorLines.every((l) => l.errorMessage === 'time field data.occurred_at: no value')).toBe(true);
  }, 120_000);

  it('CLI killed after a range of several hour objects is written, before its checkpoint: the restart redoes it under the same keys, every record exactly once', async () => {
    const stream = await local.createStream(uniqueName('evtime-crash'), { shardCount: 1 });
    const bucket = uniqueName('evtime-crash');
    await local.createBucket(bucket);
    const written = await putEvents(kinesis, stream.streamName, COUNT, {
      data: (i) => ({ i, occurred_at: hasTime(i) ? eventTime(i) : undefined }),
    });
    const args = [
      ...targetArgs(stream.streamName, bucket, uniqueName('evtime-crash-app')),
      '--prefix',
      'events/!{timestamp:yyyy/MM/dd/HH}/',
      '--time-field',
      'data.occurred_at',
      '--time-zone',
      ZONE,
      // ~70 bytes a record: ranges of ~230 records, each over the six event hours.
      '--buffer-size-bytes',
      String(16 * 1024),
      '--buffer-interval-ms',
      '1000',
      '--failover-time-ms',
      '10000',
      '--idle-time-between-reads-ms',
      '100',
    ];
    const first = spawnSink(local.info, args, { testHook: 'objects-written:1' });
    await waitFor(
      first,
      (o) => o.stderr.includes('HOOK objects-written'),
      'crash point objects-written',
      90_000,
    );
    await kill(first);
    // The first range's objects are in S3 (not checkpointed): one per New York hour it holds.
    const beforeRestart = eventIdsOf(await readObjects(s3, bucket, 'events/'));
    expect(beforeRestart.length).toBeGreaterThan(1);
    const firstRangeKeys = beforeRestart.map((o) => o.key);

    const second = spawnSink(local.info, args);
    const index = (eventId: string) => Number(eventId.split('-').pop());
    const timed = written.filter((w) => hasTime(index(w.eventId)));
    await until(
      async () =>
        eventIdsOf(await readObjects(s3, bucket, 'events/')).reduce((n, o) => n + o.eventIds.length, 0) >=
        timed.length,
      90_000,
      'every timed record archived after the restart',
    );
    // Let a duplicate, if the sink made one, land before checking.
    await new Promise((r) => setTimeout(r, 500));
    expect((await stopGracefully(second)).code).toBe(0);

    const objects = await readObjects(s3, bucket);
    const keyPattern = new RegExp(
      `^events/(?<hour>\\d{4}/\\d{2}/\\d{2}/\\d{2})/${stream.streamName}-(?<shard>shardId-\\d+)-(?<seq>\\d+)$`,
    );
    expect(
      checkExactlyOnce(
        objects.filter((o) => o.key.startsWith('events/')),
        timed,
        keyPattern,
      ),
    ).toEqual([]);
    for (const { key, eventIds } of eventIdsOf(objects).filter((o) => o.key.startsWith('events/'))) {
      const hour = keyPattern.exec(key)!.groups!.hour!;
      for (const id of eventIds) expect(localHour(eventTimeMs(index(id))), `${id} in ${key}`).toBe(hour);
    }
    // The redo wrote the same keys (no second copy under other keys: checked above), and said so.
    expect(objects.map((o) => o.key)).toEqual(expect.arrayContaining(firstRangeKeys));
    const events = second.events();
    expect(events.filter((e) => e.type === 'RANGE_SEALED' && e.reason === 'redo')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'PENDING_RANGE_MISMATCH')).toEqual([]);
    const errorIds = objects
      .filter((o) => o.key.startsWith('errors/partitioning-failed/'))
      .flatMap((o) => o.lines.map((l) => JSON.parse(l) as { rawData: string }))
      .map((l) => (JSON.parse(Buffer.from(l.rawData, 'base64').toString()) as { eventId: string }).eventId);
    expect(errorIds.sort()).toEqual(
      written
        .filter((w) => !hasTime(index(w.eventId)))
        .map((w) => w.eventId)
        .sort(),
    );
  }, 300_000);
});
