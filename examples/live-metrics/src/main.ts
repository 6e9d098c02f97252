// Live metrics over the event stream, with RxJS: events per type per minute, the top brands and the
// view -> cart -> purchase funnel, refreshed every few seconds. An independent application: it has its
// own lease table and checkpoints, whatever else reads the stream.
import { createConsumer, type LeaseAssignmentMode } from '@shardline/consumer-core';
import { createDynamoDBClient, createKinesisClient } from '@shardline/example-clients';
import { decodeEnvelope } from '@shardline/ingest';
import { auditTime, concatMap, from, mergeMap, scan } from 'rxjs';
import { addEvent, emptyMetrics, renderMetrics, type ShopEvent } from './metrics.js';

const streamName = process.env.SHARDLINE_STREAM ?? 'events';
const applicationName = process.env.SHARDLINE_APP ?? 'live-metrics';
const refreshMs = Number(process.env.SHARDLINE_REFRESH_MS ?? 2_000);
const fanOutConsumer = process.env.SHARDLINE_FAN_OUT_CONSUMER || undefined;
// Checked by createConsumer: any other value than 'worker' or 'leader' fails there with the problem.
const leaseAssignment = (process.env.SHARDLINE_LEASE_ASSIGNMENT || undefined) as
  | LeaseAssignmentMode
  | undefined;
const coordinatorTableName = process.env.SHARDLINE_COORDINATOR_TABLE || undefined;

const consumer = createConsumer({
  streamName,
  applicationName,
  // From the AWS_* environment; Kinesis over HTTP/2 on AWS (enhanced fan-out needs it), HTTP/1.1 on a
  // local endpoint; timeouts on both (see examples/clients).
  kinesisClient: createKinesisClient(),
  dynamoDBClient: createDynamoDBClient(),
  initialPosition: 'TRIM_HORIZON',
  // SHARDLINE_FAN_OUT_CONSUMER (the infra's ConsumerService sets it with `fanOut`): enhanced fan-out
  // through that registered consumer; otherwise polling.
  retrieval: fanOutConsumer ? { fanOut: { consumerName: fanOutConsumer } } : 'polling',
  // SHARDLINE_LEASE_ASSIGNMENT=leader and SHARDLINE_COORDINATOR_TABLE (the infra's ConsumerService sets
  // them when the lease table is in leader mode): an elected worker assigns the leases.
  ...(leaseAssignment === undefined ? {} : { leaseAssignment }),
  ...(coordinatorTableName === undefined ? {} : { coordinatorTableName }),
});

const events$ = consumer.shards$.pipe(
  mergeMap((shard) =>
    shard.records$.pipe(
      // Counted, then checkpointed: after a crash the batches since the last checkpoint count again.
      concatMap(async (batch) => {
        const events = batch.records.map((record) => decodeEnvelope<ShopEvent>(record.data).data);
        await batch.checkpoint();
        return events;
      }),
    ),
  ),
  mergeMap((events) => from(events)),
);

const isTty = process.stdout.isTTY === true;
const subscription = events$
  .pipe(
    scan((metrics, event) => addEvent(metrics, event), emptyMetrics()),
    auditTime(refreshMs),
  )
  .subscribe((metrics) => {
    // A refreshing table on a terminal; plain blocks otherwise (logs, pipes, tests).
    process.stdout.write(
      isTty ? `\x1b[2J\x1b[H${renderMetrics(metrics)}\n` : `${renderMetrics(metrics)}\n---\n`,
    );
  });

await consumer.start();
process.stderr.write(`live metrics of ${streamName} as ${applicationName}; Ctrl-C to stop\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void consumer.stop().then(() => {
      subscription.unsubscribe();
      process.stderr.write('stopped\n');
    });
  });
}
