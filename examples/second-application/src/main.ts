// A second application on the same stream: an audit trail of purchases. It has its own name, so its own
// lease table and checkpoints: it reads every event whatever other applications (minimal-consumer,
// live-metrics, the s3-sink) do, at its own pace, and a restart resumes where IT stopped.
// RxJS form, checkpointing record by record.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { http1RequestHandler, kinesisRequestHandler } from '@shardline/common';
import { createConsumer } from '@shardline/consumer-core';
import { decodeEnvelope } from '@shardline/ingest';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { concatMap, mergeMap } from 'rxjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'purchase-audit';
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
  checkpointIntervalMs: 0, // every checkpoint written at once: this app checkpoints per purchase
});

let seen = 0;
consumer.shards$
  .pipe(
    mergeMap((shard) =>
      shard.records$.pipe(
        concatMap(async (batch) => {
          for (const record of batch.records) {
            seen += 1;
            const event = decodeEnvelope<{ event_type?: string; price?: string; user_id?: string }>(
              record.data,
            );
            if (event.data.event_type === 'purchase') {
              console.log(`purchase ${event.eventId} user ${event.data.user_id} price ${event.data.price}`);
              await batch.checkpoint(record); // this application's own position, nobody else's
            }
          }
          await batch.checkpoint(); // the rest of the batch needed nothing: handled too
        }),
      ),
    ),
  )
  .subscribe();

await consumer.start();
console.log(`auditing purchases of ${streamName} as ${applicationName}; Ctrl-C to stop`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void consumer.stop().then(() => console.log(`stopped after ${seen} events`)));
}
