// The smallest Shardline consumer: every event of the stream, printed once per batch, checkpointed
// after each batch. Point it at the local twin with the lines `pnpm local:up` prints, or at AWS.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createConsumer } from '@shardline/consumer-core';
import { decodeEnvelope } from '@shardline/ingest';
import { NodeHttpHandler } from '@smithy/node-http-handler';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'minimal-consumer';
// Endpoints, region and credentials come from the AWS_* environment variables.
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
