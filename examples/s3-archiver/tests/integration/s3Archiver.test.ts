import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { putEvents, runExample, sampleEvents } from '@shardline/example-testing';
import { decodeEnvelope } from '@shardline/ingest';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';

const local = useLocalTwin();
const entry = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

it('archives every event once, partitioned by event type, and flushes its buffers on stop', async () => {
  const stream = await local.createStream(uniqueName('archive'), { shardCount: 2 });
  const bucket = uniqueName('archive');
  await local.createBucket(bucket);
  const events = sampleEvents(600);
  await putEvents(local, stream.streamName, events);

  const example = runExample(entry, local, {
    SHARDLINE_STREAM: stream.streamName,
    SHARDLINE_BUCKET: bucket,
    SHARDLINE_APP: uniqueName('archiver-app'),
    SHARDLINE_BUFFER_INTERVAL_MS: '600000', // nothing by time: the graceful stop must flush everything
  });
  try {
    await example.waitFor((out) => out.includes('archiving'));
    // Let it read every shard, then stop: the open buffers are written on the way out.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    example.child.kill('SIGTERM');
    expect(await example.exit()).toBe(0);
    // The hour is the arrival time of the object's oldest record (UTC), as with Firehose.
    expect(example.output()).toMatch(
      /^object events\/type=view\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\S+\.gz \d+ records$/m,
    );
  } finally {
    example.child.kill('SIGKILL');
  }

  const archived = new Map<string, string>(); // eventId → the type its key says
  const { Contents = [] } = await local.s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: 'events/' }),
  );
  for (const { Key } of Contents) {
    const type = /^events\/type=([^/]+)\//.exec(Key!)?.[1];
    const body = await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const lines = gunzipSync(Buffer.from(await body.Body!.transformToByteArray()))
      .toString('utf8')
      .split('\n');
    for (const line of lines.filter(Boolean)) {
      const { eventId } = decodeEnvelope(line);
      expect(archived.has(eventId), `${eventId} archived twice`).toBe(false);
      archived.set(eventId, type!);
    }
  }
  expect(archived.size).toBe(events.length);
  for (const event of events) expect(archived.get(event.eventId)).toBe(event.data.event_type);
});
