// The stream's scaler and shard-count publisher, run by a schedule and by the load alarms. Reads the
// stream's write metrics, decides with the pure decideShardCount, calls UpdateShardCount, and publishes
// the open shard count that the consumer services scale on. Its update history lives in a stream tag.
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AddTagsToStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListTagsForStreamCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { kinesisRequestHandler } from '@shardline/common';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { decideShardCount, type ShardScalingPolicy } from '../scaling/decideShardCount.js';
import { OPEN_SHARD_COUNT_METRIC } from '../scaling/openShardCountMetric.js';

/** The stream tag that keeps the scaler's `UpdateShardCount` times (epoch seconds, comma-separated). */
export const HISTORY_TAG = 'shardline:scaler-updates';

const WINDOW_MINUTES = 15;
// HTTP/2 with timeouts on AWS (the Kinesis SDK's own choice of protocol), HTTP/1.1 if an endpoint for an
// emulator is set.
const requestHandler = kinesisRequestHandler({
  endpoint: process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL,
  http1Handler: NodeHttpHandler,
  http2Handler: NodeHttp2Handler,
});
const kinesis = new KinesisClient({ requestHandler });
const cloudwatch = new CloudWatchClient({});

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

async function peaks(streamName: string, nowMs: number): Promise<[number, number, number]> {
  const query = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Kinesis',
        MetricName: metricName,
        Dimensions: [{ Name: 'StreamName', Value: streamName }],
      },
      Period: 60,
      Stat: 'Sum',
    },
  });
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(nowMs - WINDOW_MINUTES * 60_000),
      EndTime: new Date(nowMs),
      MetricDataQueries: [
        query('bytes', 'IncomingBytes'),
        query('records', 'IncomingRecords'),
        query('throttled', 'WriteProvisionedThroughputExceeded'),
      ],
    }),
  );
  const values = (id: string) => out.MetricDataResults?.find((r) => r.Id === id)?.Values ?? [];
  const peak = (id: string) => Math.max(0, ...values(id)) / 60; // Sum per minute → per second
  const total = values('throttled').reduce((a, b) => a + b, 0);
  return [peak('bytes'), peak('records'), total];
}

/** The Lambda entry point. */
export async function handler(): Promise<{ action: string; targetShards: number; reason: string }> {
  const streamName = env('STREAM_NAME');
  const policy = process.env.SCALING_POLICY
    ? (JSON.parse(process.env.SCALING_POLICY) as ShardScalingPolicy)
    : undefined;
  const nowMs = Date.now();
  const { StreamDescriptionSummary: summary } = await kinesis.send(
    new DescribeStreamSummaryCommand({ StreamName: streamName }),
  );
  const openShards = summary?.OpenShardCount ?? 0;
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: OPEN_SHARD_COUNT_METRIC.namespace,
      MetricData: [
        {
          MetricName: OPEN_SHARD_COUNT_METRIC.name,
          Dimensions: [{ Name: 'StreamName', Value: streamName }],
          Value: openShards,
          Unit: 'Count',
        },
      ],
    }),
  );
  if (policy === undefined) return { action: 'none', targetShards: openShards, reason: 'on-demand stream' };
  if (summary?.StreamStatus !== 'ACTIVE') {
    return { action: 'none', targetShards: openShards, reason: `stream is ${summary?.StreamStatus}` };
  }
  const [peakBytes, peakRecords, throttled] = await peaks(streamName, nowMs);
  const tags = await kinesis.send(new ListTagsForStreamCommand({ StreamName: streamName }));
  const history = (tags.Tags?.find((t) => t.Key === HISTORY_TAG)?.Value ?? '')
    .split(/[ ,]/)
    .filter((s) => s !== '')
    .map((s) => Number(s) * 1000);
  const decision = decideShardCount(
    policy,
    {
      openShards,
      peakIncomingBytesPerSecond: peakBytes,
      peakIncomingRecordsPerSecond: peakRecords,
      throttledWrites: throttled,
    },
    history,
    nowMs,
  );
  console.log(JSON.stringify({ streamName, openShards, peakBytes, peakRecords, throttled, ...decision }));
  if (decision.action === 'none') return decision;
  await kinesis.send(
    new UpdateShardCountCommand({
      StreamName: streamName,
      TargetShardCount: decision.targetShards,
      ScalingType: 'UNIFORM_SCALING',
    }),
  );
  const kept = [...history.filter((t) => t > nowMs - 24 * 3_600_000), nowMs].map((t) => Math.floor(t / 1000));
  await kinesis.send(
    new AddTagsToStreamCommand({ StreamName: streamName, Tags: { [HISTORY_TAG]: kept.join(' ') } }),
  );
  return decision;
}
