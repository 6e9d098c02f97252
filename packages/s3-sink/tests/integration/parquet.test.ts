import { createHash } from 'node:crypto';
import { encodeEnvelope } from '@shardline/ingest';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import {
  checkExactlyOnce,
  createStreamAndBucket,
  putEvents,
  readObjects,
  until,
} from '../helpers/archive.js';
import { useTestSinks } from '../helpers/sinks.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
const sink = useTestSinks(local);

const COUNT = 1500;
const TYPES = ['view', 'cart', 'purchase'];
/** Records that do not fit the schema: a required column missing, an integer beyond INT64. */
const isMissingUser = (i: number) => i % 50 === 7;
const isTooBig = (i: number) => i % 50 === 13;
const amountOf = (i: number) => (i % 2 === 0 ? 9007199254740993n + BigInt(i) * 1000n : BigInt(-i));

function dataJson(i: number): string {
  const user = isMissingUser(i) ? '' : `"user":"u-${i % 7}",`;
  const amount = isTooBig(i) ? '9223372036854775808' : String(amountOf(i));
  const at = i % 4 === 0 ? '' : `,"at":"2026-11-25T15:00:${String(i % 60).padStart(2, '0')}.250+01:00"`;
  return `{${user}"event_type":"${TYPES[i % 3]}","amount":${amount},"price":${i}.25,"paid":${i % 3 === 0}${at},"tags":["a",${i}]}`;
}

describe('s3-sink Parquet output', () => {
  it('archives every record once as Parquet (read back by DuckDB) or in format-conversion-failed, partitioned, with manifests', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'pq', 2);
    const written = await putEvents(kinesis, stream.streamName, COUNT, {
      raw: (i) => encodeEnvelope({ eventId: `ev-${i}`, dataJson: dataJson(i) }),
    });
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('pq-app'),
      prefix: 'type=!{partitionKeyFromQuery:type}/!{timestamp:yyyy/MM/dd/HH}/',
      partitionKeys: { type: 'data.event_type' },
      bufferSizeBytes: 48 * 1024,
      bufferIntervalMs: 1000,
      format: 'parquet',
      parquet: {
        schema: {
          type: 'object',
          required: ['user', 'amount'],
          properties: {
            user: { type: 'string' },
            amount: { type: 'integer' },
            price: { type: 'number' },
            paid: { type: 'boolean' },
            at: { type: ['string', 'null'], format: 'date-time' },
            tags: { type: 'array' },
          },
        },
        schemaVersion: 'v1',
        rowGroupSize: 100,
      },
    });
    await s.start();
    const failed = written.filter((_, i) => isMissingUser(i) || isTooBig(i));
    await until(
      async () => {
        const m = s.metrics();
        return m.recordsWritten + m.errorRecords >= COUNT;
      },
      90_000,
      'every record archived',
    ).catch((error: Error) => {
      const detours = events
        .filter((e) => e.type === 'SHARD_FAILED' || e.type === 'ERROR' || e.type === 'RANGE_ABANDONED')
        .map((e) => JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? v.stack : v)));
      throw new Error(`${error.message}: ${JSON.stringify(s.metrics())} ${detours.slice(0, 3).join(' | ')}`);
    });
    await s.stop();

    const objects = await readObjects(s3, bucket);
    const data = objects.filter((o) => o.key.startsWith('type='));
    expect(data.length).toBeGreaterThan(3);
    expect(data.every((o) => o.key.endsWith('.v1.parquet'))).toBe(true);
    const keyPattern = new RegExp(
      `^type=(view|cart|purchase)/\\d{4}/\\d{2}/\\d{2}/\\d{2}/${stream.streamName}-(?<shard>shardId-\\d+)-(?<seq>\\d+)\\.v1\\.parquet$`,
    );
    const fits = written.filter((w) => !failed.includes(w));
    expect(checkExactlyOnce(objects, fits, keyPattern)).toEqual([]);

    // Every row's values, as DuckDB reads them.
    for (const object of data) {
      const type = /^type=(\w+)\//.exec(object.key)![1];
      for (const row of object.rows!) {
        const i = Number(String(row.eventId).slice(3));
        expect(row, object.key).toMatchObject({
          user: `u-${i % 7}`,
          amount: amountOf(i),
          price: i + 0.25,
          paid: i % 3 === 0,
          tags: `["a",${i}]`,
        });
        expect(TYPES[i % 3]).toBe(type);
        expect(row.at === null ? null : String(row.at)).toBe(
          i % 4 === 0 ? null : `2026-11-25 14:00:${String(i % 60).padStart(2, '0')}.25`,
        );
      }
    }

    // Every record that does not fit: in the error output once, with its position and reason.
    const errorLines = objects
      .filter((o) => o.key.startsWith('errors/'))
      .flatMap((o) => {
        expect(o.key).toMatch(/^errors\/format-conversion-failed\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^.]+$/);
        return o.lines.map((l) => JSON.parse(l) as Record<string, string>);
      });
    expect(errorLines.map((l) => l.sequenceNumber).sort()).toEqual(
      failed.map((w) => w.sequenceNumber).sort(),
    );
    for (const line of errorLines) {
      const w = failed.find((f) => f.sequenceNumber === line.sequenceNumber)!;
      const i = Number(w.eventId.slice(3));
      expect(line.errorCode).toBe('FormatConversionFailed');
      expect(line.errorMessage).toBe(
        isMissingUser(i)
          ? 'column user: is missing, and it is not nullable'
          : 'column amount: 9223372036854775808 does not fit in INT64 (±2^63)',
      );
    }

    // Manifests describe each object.
    for (const object of objects.filter((o) => !o.key.startsWith('manifests/'))) {
      const manifest = objects.find((o) => o.key === `manifests/${object.key}.json`);
      expect(manifest, object.key).toBeDefined();
      const m = JSON.parse(manifest!.body.toString()) as Record<string, unknown>;
      expect(m.format).toBe(object.key.endsWith('.parquet') ? 'parquet' : 'json');
      expect(m.compression).toBe('none');
      expect(m.recordCount).toBe(object.lines.length);
      expect(m.sha256).toBe(createHash('sha256').update(object.body).digest('hex'));
    }
    expect(s.metrics()).toMatchObject({ recordsWritten: COUNT - failed.length, errorRecords: failed.length });
  }, 180_000);
});
