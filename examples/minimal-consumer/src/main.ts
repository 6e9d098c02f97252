// The smallest Shardline consumer: every event of the stream, printed once per batch, checkpointed
// after each batch. Point it at the local twin with the lines `pnpm local:up` prints, or at AWS.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { http1RequestHandler, kinesisRequestHandler } from '@shardline/common';
import { createConsumer } from '@shardline/consumer-core';
import { decodeEnvelope } from '@shardline/ingest';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'minimal-consumer';
// Endpoints, region and credentials come from the AWS_* environment variables.
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

const consumer = createConsumer({
  streamName,
  applicationName,
  kinesisClient: new KinesisClient({
    ...(kinesisEndpoint ? { endpoint: kinesisEndpoint } : {}),
    requestHandler: kinesisHandler,
  }),
  dynamoDBClient: new DynamoDBClient({ requestHandler }),
  initialPosition: 'TRIM_HORIZON',
});

await consumer.run({
  processBatch: async (batch) => {
    const types = new Map<string, number>();
    for (const record of batch.records) {
      const event = decodeEnvelope<{ event_type?: string }>(record.data);
      const type = event.data?.event_type ?? 'other';
      types.set(type, (types.get(type) ?? 0) + 1);
      console.log(`event ${event.eventId} ${type}`);
    }
    const summary = [...types].map(([type, n]) => `${type} ${n}`).join(', ');
    console.log(
      `${batch.shardId}: ${batch.records.length} events (${summary}), up to ${batch.records.at(-1)?.sequenceNumber}`,
    );
  }, // resolving = handled: the batch is checkpointed
});
console.log(`consuming ${streamName} as ${applicationName} (worker ${consumer.workerId}); Ctrl-C to stop`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Graceful: in-flight batches finish, checkpoints are written, leases released for the next worker.
    void consumer.stop().then(() => console.log('stopped'));
  });
}
