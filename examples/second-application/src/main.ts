// A second application on the same stream: an audit trail of purchases. It has its own name, so its own
// lease table and checkpoints: it reads every event whatever other applications (minimal-consumer,
// live-metrics, the s3-sink) do, at its own pace, and a restart resumes where IT stopped.
// RxJS form, checkpointing record by record.
import { createConsumer } from '@shardline/consumer-core';
import { createDynamoDBClient, createKinesisClient } from '@shardline/example-clients';
import { decodeEnvelope } from '@shardline/ingest';
import { concatMap, mergeMap } from 'rxjs';

const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'purchase-audit';

const consumer = createConsumer({
  streamName,
  applicationName,
  // From the AWS_* environment; Kinesis over HTTP/2 on AWS (enhanced fan-out needs it), HTTP/1.1 on a
  // local endpoint; timeouts on both (see examples/clients).
  kinesisClient: createKinesisClient(),
  dynamoDBClient: createDynamoDBClient(),
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
