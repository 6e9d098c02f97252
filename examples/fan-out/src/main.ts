// Two applications on one stream, in one process, each with its own lease table and checkpoints:
// - purchase alerts read with enhanced fan-out: Kinesis pushes records through a registered stream
//   consumer (SubscribeToShard), with the application's own 2 MiB/s per shard (AWS's figures);
// - a per-type report polls (GetRecords), sharing the shard's 5 reads per second with other pollers.
// The consumer is registered on first start (named like the application) and reused afterwards; list
// or remove it with `shardline consumers list|deregister --stream <stream>`. A registered consumer is
// billed per shard-hour while it exists.
//
// On the local twin, start it with kinesis-local (`pnpm local:up -- --kinesis faithful`): kinesalite has
// no fan-out. kinesis-local pushes on a one-second poll, so alerts arrive within about a second there.
import { type Consumer, createConsumer } from '@shardline/consumer-core';
import { createDynamoDBClient, createKinesisClient } from '@shardline/example-clients';
import { decodeEnvelope } from '@shardline/ingest';

const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const alertsApp = process.env.SHARDLINE_FAN_OUT_APP ?? 'purchase-alerts';
const reportApp = process.env.SHARDLINE_POLLING_APP ?? 'type-report';
// Kinesis: HTTP/2 on AWS — SubscribeToShard works over HTTP/2 only — and HTTP/1.1 on a local endpoint
// (kinesis-local serves SubscribeToShard over HTTP/1.1 only). DynamoDB: HTTP/1.1. Both from the AWS_*
// environment, with timeouts (see examples/clients); Shardline also bounds every call it makes. One
// pair of clients serves both applications.
const kinesisClient = createKinesisClient();
const dynamoDBClient = createDynamoDBClient();

const alerts = createConsumer({
  streamName,
  applicationName: alertsApp,
  kinesisClient,
  dynamoDBClient,
  initialPosition: 'TRIM_HORIZON',
  retrieval: { fanOut: {} }, // consumerName: the application name
});
const report = createConsumer({
  streamName,
  applicationName: reportApp,
  kinesisClient,
  dynamoDBClient,
  initialPosition: 'TRIM_HORIZON',
  retrieval: 'polling', // the default; `{ polling: { idleTimeBetweenReadsMs } }` tunes it
});

alerts.events$.subscribe((event) => {
  if (event.type === 'SUBSCRIBED' && !event.isRenewal)
    console.log(`[fan-out] subscribed to ${event.shardId}`);
});

const counts = new Map<string, number>();
await Promise.all([
  alerts.run({
    processBatch: async (batch) => {
      for (const record of batch.records) {
        const event = decodeEnvelope<{ event_type?: string; price?: string }>(record.data);
        if (event.data.event_type === 'purchase') {
          console.log(`[fan-out] purchase ${event.eventId} price ${event.data.price}`);
        }
      }
    },
  }),
  report.run({
    processBatch: async (batch) => {
      for (const record of batch.records) {
        const event = decodeEnvelope<{ event_type?: string }>(record.data);
        const type = event.data.event_type ?? 'other';
        counts.set(type, (counts.get(type) ?? 0) + 1);
        console.log(`[polling] event ${event.eventId} ${type}`);
      }
    },
  }),
]);
console.log(
  `reading ${streamName}: ${alertsApp} with enhanced fan-out, ${reportApp} by polling; Ctrl-C to stop`,
);

const stopBoth = async (consumers: readonly Consumer[]) => {
  // Graceful: in-flight batches finish, checkpoints are written, leases released (subscriptions first).
  await Promise.all(consumers.map((c) => c.stop()));
  const summary = [...counts].map(([type, n]) => `${type} ${n}`).join(', ');
  console.log(`stopped (report: ${summary || 'no events'})`);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopBoth([alerts, report]));
}
