// The stream archived to S3 the way Firehose does, partitioned by event type: objects land under
// events/type=<event_type>/YYYY/MM/dd/HH/, gzip, one envelope per line; records that cannot be parsed or
// partitioned go under errors/ with the reason. Exactly-once objects, even across crashes.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { http1RequestHandler, kinesisRequestHandler } from '@shardline/common';
import { createS3Sink } from '@shardline/s3-sink';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const bucket = process.env.SHARDLINE_BUCKET ?? 'archive';
// Kinesis: HTTP/2 on AWS (enhanced fan-out's SubscribeToShard works over HTTP/2 only), HTTP/1.1 on a
// local endpoint (the emulators need it): kinesisRequestHandler picks by AWS_ENDPOINT_URL_KINESIS,
// which is also passed as the client's endpoint (so that the client knows it is a custom one).
// DynamoDB: HTTP/1.1. Both with timeouts (5 s connect, 30 s request; a missed request timeout throws
// instead of being only logged). Shardline also puts its own deadline on every call it makes (the
// consumer's `timeouts` option).
const kinesisEndpoint = process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL;
const kinesisHandler = kinesisRequestHandler({
  endpoint: kinesisEndpoint,
  http1Handler: NodeHttpHandler,
  http2Handler: NodeHttp2Handler,
});
const requestHandler = http1RequestHandler(NodeHttpHandler);
const isLocal = process.env.AWS_ENDPOINT_URL_S3 !== undefined;

const sink = createS3Sink({
  streamName,
  bucket,
  applicationName: process.env.SHARDLINE_APP ?? 's3-archiver',
  kinesisClient: new KinesisClient({
    ...(kinesisEndpoint ? { endpoint: kinesisEndpoint } : {}),
    requestHandler: kinesisHandler,
  }),
  dynamoDBClient: new DynamoDBClient({ requestHandler }),
  // Emulators need path-style addressing and checksums only when required.
  s3Client: new S3Client({
    requestHandler,
    ...(isLocal ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
  }),
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
