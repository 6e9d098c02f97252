// A second application on the same stream: an audit trail of purchases. It has its own name, so its own
// lease table and checkpoints: it reads every event whatever other applications (minimal-consumer,
// live-metrics, the s3-sink) do, at its own pace, and a restart resumes where IT stopped.
// RxJS form, checkpointing record by record.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { decodeEnvelope } from '@shardline/ingest';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { concatMap, mergeMap } from 'rxjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'purchase-audit';
// HTTP/1.1 (the local Kinesis emulator does not speak HTTP/2), with timeouts: the handler has none by
// default, and without throwOnRequestTimeout a missed requestTimeout is only logged. Shardline also puts
// its own deadline on every call it makes (the consumer's `timeouts` option).
const requestHandler = new NodeHttpHandler({
  connectionTimeout: 5_000,
  requestTimeout: 30_000,
  throwOnRequestTimeout: true,
});

const consumer = createConsumer({
  streamName,
  applicationName,
  kinesisClient: new KinesisClient({ requestHandler }),
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
