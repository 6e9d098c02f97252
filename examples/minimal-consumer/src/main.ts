// The smallest Shardline consumer: every event of the stream, printed once per batch, checkpointed
// after each batch. Point it at the local twin with the lines `pnpm local:up` prints, or at AWS.
import { createConsumer } from '@shardline/consumer-core';
import { createDynamoDBClient, createKinesisClient } from '@shardline/example-clients';
import { decodeEnvelope } from '@shardline/ingest';

const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'minimal-consumer';

const consumer = createConsumer({
  streamName,
  applicationName,
  // From the AWS_* environment; Kinesis over HTTP/2 on AWS (enhanced fan-out needs it), HTTP/1.1 on a
  // local endpoint; timeouts on both (see examples/clients).
  kinesisClient: createKinesisClient(),
  dynamoDBClient: createDynamoDBClient(),
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
