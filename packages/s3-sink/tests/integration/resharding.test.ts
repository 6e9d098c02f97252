import { silentLogger } from '@shardline/consumer-core';
import { uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { expect, it } from 'vitest';
import { createS3Sink, type S3SinkEvent } from '../../src/index.js';
import { checkExactlyOnce, defaultKeyPattern, putEvents, readObjects, until } from '../helpers/archive.js';

const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const { kinesis } = faithful;
const { dynamodb, s3 } = local;

it('split then merge while archiving (kinesis-local): every record once, each shard closed at SHARD_END', async () => {
  const streamName = uniqueName('reshard');
  const stream = await faithful.createStream(streamName, { shardCount: 2 });
  const bucket = uniqueName('reshard');
  await local.createBucket(bucket);
  const sink = createS3Sink({
    streamName,
    bucket,
    applicationName: uniqueName('reshard-app'),
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    s3Client: s3,
    logger: silentLogger,
    compression: 'gzip',
    bufferSizeBytes: 4 * 1024,
    bufferIntervalMs: 500,
    consumer: { idleTimeBetweenReadsMs: 100, leaseTakeIntervalMs: 300, shardSyncIntervalMs: 1_000 },
  });
  const events: S3SinkEvent[] = [];
  sink.events$.subscribe((e) => events.push(e));
  await sink.start();
  try {
    const written = await putEvents(kinesis, streamName, 150, { prefix: 'p' });
    const parent = stream.shardIds[0]!;
    const afterSplit = await faithful.splitShard(streamName, parent);
    written.push(...(await putEvents(kinesis, streamName, 150, { prefix: 's' })));
    const children = afterSplit.shardIds.filter((id) => !stream.shardIds.includes(id));
    expect(children).toHaveLength(2);
    const afterMerge = await faithful.mergeShards(streamName, children[0]!, children[1]!);
    const merged = afterMerge.shardIds.filter((id) => !afterSplit.shardIds.includes(id));
    written.push(...(await putEvents(kinesis, streamName, 150, { prefix: 'm' })));
    await until(
      () => sink.metrics().recordsWritten >= written.length,
      45_000,
      'every record across the reshards',
    );
    await sink.stop();

    const objects = await readObjects(s3, bucket);
    const keys = defaultKeyPattern(streamName, '.gz');
    expect(checkExactlyOnce(objects, written, keys)).toEqual([]);
    // The parent and both children were closed at their end; the merged child holds the last records.
    const endedShards = new Set(
      events.flatMap((e) => (e.type === 'RANGE_SEALED' && e.reason === 'session-end' ? [e.shardId] : [])),
    );
    expect([...endedShards].sort()).toEqual(expect.arrayContaining([parent, ...children].sort()));
    expect(objects.some((o) => o.key.includes(`-${merged[0]}-`))).toBe(true);
  } finally {
    await sink.stop();
  }
});
