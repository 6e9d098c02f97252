import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import {
  checkExactlyOnce,
  createStreamAndBucket,
  defaultKeyPattern,
  eventIdsOf,
  putEvents,
  readObjects,
  until,
} from '../helpers/archive.js';
import { useTestSinks } from '../helpers/sinks.js';

const local = useLocalTwin();
const { kinesis, s3 } = local;
const sink = useTestSinks(local);

describe('s3-sink round trip', () => {
  it('archives every record exactly once, in shard order, under the default key layout (gzip), with manifests', async () => {
    const { stream, bucket } = await createStreamAndBucket(local, 'rt', 2);
    const written = await putEvents(kinesis, stream.streamName, 3000);
    const { sink: s, events } = sink({
      streamName: stream.streamName,
      bucket,
      applicationName: uniqueName('sink-app'),
      compression: 'gzip',
      bufferSizeBytes: 32 * 1024,
      bufferIntervalMs: 1000,
    });
    await s.start();
    await until(
      async () =>
        eventIdsOf(await readObjects(s3, bucket)).reduce((n, o) => n + o.eventIds.length, 0) >= 3000,
      40_000,
      'every record archived',
    );
    await s.stop();

    const objects = await readObjects(s3, bucket);
    const keyPattern = defaultKeyPattern(stream.streamName, '.gz');
    expect(checkExactlyOnce(objects, written, keyPattern)).toEqual([]);
    const dataObjects = eventIdsOf(objects);
    expect(dataObjects.length).toBeGreaterThan(4); // cut by size: 3000 records of ~100 bytes, 32 KiB buffers
    const now = new Date();
    const hour = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/`;
    expect(dataObjects.every((o) => o.key.startsWith(hour))).toBe(true);

    // One manifest per object, agreeing with the object itself.
    for (const object of objects.filter((o) => !o.key.startsWith('manifests/'))) {
      const manifest = objects.find((o) => o.key === `manifests/${object.key}.json`);
      expect(manifest, object.key).toBeDefined();
      const m = JSON.parse(manifest!.body.toString()) as Record<string, unknown>;
      expect(m.recordCount).toBe(object.lines.length);
      expect(m.bytes).toBe(object.body.length);
      expect(m.sha256).toBe(createHash('sha256').update(object.body).digest('hex'));
      const head = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
      expect(head.Metadata?.['shardline-record-count']).toBe(String(object.lines.length));
    }
    const sealed = events.filter((e) => e.type === 'RANGE_SEALED');
    expect(sealed.some((e) => e.type === 'RANGE_SEALED' && e.reason === 'size')).toBe(true);
    expect(events.filter((e) => e.type === 'OBJECT_WRITTEN')).toHaveLength(dataObjects.length);
    expect(s.metrics().recordsWritten).toBe(3000);
  });
});
