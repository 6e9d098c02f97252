// The stream archived to S3 the way Firehose does, partitioned by event type: objects land under
// events/type=<event_type>/YYYY/MM/dd/HH/, gzip, one envelope per line; records that cannot be parsed or
// partitioned go under errors/ with the reason. Exactly-once objects, even across crashes.
import { createDynamoDBClient, createKinesisClient, createS3Client } from '@shardline/example-clients';
import { createS3Sink } from '@shardline/s3-sink';

const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const bucket = process.env.SHARDLINE_BUCKET ?? 'archive';

const sink = createS3Sink({
  streamName,
  bucket,
  applicationName: process.env.SHARDLINE_APP ?? 's3-archiver',
  // From the AWS_* environment; Kinesis over HTTP/2 on AWS, HTTP/1.1 on a local endpoint; S3 with
  // path-style addressing on a local endpoint; timeouts on all (see examples/clients).
  kinesisClient: createKinesisClient(),
  dynamoDBClient: createDynamoDBClient(),
  s3Client: createS3Client(),
  compression: 'gzip',
  prefix: 'events/type=!{partitionKeyFromQuery:type}/!{timestamp:yyyy/MM/dd/HH}/',
  partitionKeys: { type: 'data.event_type' },
  // Small buffers so that objects appear within seconds (Firehose's defaults: 5 MiB or 300 s).
  bufferSizeBytes: 1024 * 1024,
  bufferIntervalMs: Number(process.env.SHARDLINE_BUFFER_INTERVAL_MS ?? 5_000),
});

sink.events$.subscribe((event) => {
  if (event.type === 'OBJECT_WRITTEN') console.log(`object ${event.key} ${event.recordCount} records`);
});
await sink.start();
console.log(
  `archiving ${streamName} to s3://${bucket}/events/type=…/; Ctrl-C to stop (open buffers are flushed)`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void sink.stop().then(() => console.log('stopped')));
}
