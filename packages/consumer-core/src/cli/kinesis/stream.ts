import {
  DescribeStreamConsumerCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  KinesisClient,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { awsErrorName, clientWithDeadline, kinesisRequestHandler } from '@shardline/common';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { type ExtendedSequenceNumber, SentinelCheckpoint } from '../../checkpoint/ExtendedSequenceNumber.js';
import { CONSUMER_DEFAULTS } from '../../config/resolveConsumerConfig.js';
import type { StreamIdentity } from '../../leases/streamIdentity.js';
import {
  deregisterStreamConsumer,
  listStreamConsumers,
  type StreamConsumer,
} from '../../retrieval/kinesis/streamConsumerRegistration.js';
import type { KinesisRecord } from '../../retrieval/ShardReader.js';
import { toKinesisRecords } from '../../retrieval/toKinesisRecords.js';
import { KinesisShardLister } from '../../shard-sync/kinesis/KinesisShardLister.js';
import type { ShardDescription } from '../../shard-sync/shardLineage.js';
import type { AwsConnection } from '../connection.js';

/** The stream as the CLI sees it. */
export interface CliStream {
  listShards(): Promise<ShardDescription[]>;
  /**
   * How far the checkpoint is behind the tip (`MillisBehindLatest` of one `GetRecords` with `Limit: 1`
   * after the checkpoint), or undefined when it cannot be told (sentinel checkpoint, trimmed records).
   */
  lagMs(shardId: string, checkpoint: ExtendedSequenceNumber): Promise<number | undefined>;
  /**
   * The checkpoint that makes a worker resume at the first record that arrived at or after `at`: the
   * last record before `at` (found by reading forward from ever earlier points), or `TRIM_HORIZON`.
   */
  checkpointBefore(shardId: string, at: Date): Promise<ExtendedSequenceNumber>;
  /** The stream's ARN and creation time (`DescribeStreamSummary`), which `reset` stamps on the leases. */
  describe(): Promise<StreamIdentity>;
  /**
   * The first user record after `checkpoint` (a KPL sub-record when the record is aggregated: the same
   * position a worker resumes at), or `undefined` when the shard holds none yet. `checkpoint` is a
   * sequence number or `TRIM_HORIZON`.
   */
  nextRecordAfter(shardId: string, checkpoint: ExtendedSequenceNumber): Promise<KinesisRecord | undefined>;
  /** Every registered consumer of the stream (`ListStreamConsumers`, all pages), in name order. */
  listConsumers(streamArn: string): Promise<StreamConsumer[]>;
  /** One registered consumer, or `undefined` once it is gone (`ResourceNotFoundException`). */
  describeConsumer(consumerArn: string): Promise<StreamConsumer | undefined>;
  /**
   * Starts deregistering a consumer (`DeregisterStreamConsumer`: it turns `DELETING`, then disappears).
   * @returns false when no such consumer exists.
   */
  deregisterConsumer(streamArn: string, consumerName: string): Promise<boolean>;
  destroy(): void;
}

/** Most `GetRecords` pages read looking for the next record (empty pages while behind are normal). */
const MAX_EMPTY_PAGES = 50;

/**
 * Opens `streamName` with a Kinesis client of its own (HTTP/2 for AWS, HTTP/1.1 for an explicit local
 * endpoint: `kinesisRequestHandler`), every call under the consumer's Kinesis deadline.
 */
export function openStream(connection: AwsConnection, streamName: string): CliStream {
  const sdkClient = new KinesisClient({
    region: connection.region,
    requestHandler: kinesisRequestHandler({
      endpoint: connection.kinesisEndpoint,
      http1Handler: NodeHttpHandler,
      http2Handler: NodeHttp2Handler,
    }),
    ...(connection.kinesisEndpoint ? { endpoint: connection.kinesisEndpoint } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
  });
  const callTimeoutMs = CONSUMER_DEFAULTS.timeouts.kinesisCallMs;
  const client = clientWithDeadline(sdkClient, callTimeoutMs);
  const lister = new KinesisShardLister({ client: sdkClient, streamName, callTimeoutMs });
  const iterator = async (
    shardId: string,
    type: ShardIteratorType,
    extra: { StartingSequenceNumber?: string; Timestamp?: Date } = {},
  ) =>
    (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: type,
          ...extra,
        }),
      )
    ).ShardIterator;
  return {
    listShards: () => lister.listShards(),
    lagMs: async (shardId, checkpoint) => {
      if (!/^\d+$/.test(checkpoint.sequenceNumber)) return undefined;
      try {
        const start = await iterator(shardId, 'AFTER_SEQUENCE_NUMBER', {
          StartingSequenceNumber: checkpoint.sequenceNumber,
        });
        if (!start) return undefined;
        const page = await client.send(new GetRecordsCommand({ ShardIterator: start, Limit: 1 }));
        return page.MillisBehindLatest;
      } catch {
        return undefined;
      }
    },
    checkpointBefore: async (shardId, at) => {
      // Read forward from ever earlier points (the smallest window holding a record before `at` is
      // read to `at` only), keeping the last record that arrived before `at`.
      const windowsMs = [10_000, 60_000, 600_000, 3_600_000, 86_400_000, Number.POSITIVE_INFINITY];
      for (const windowMs of windowsMs) {
        let shardIterator = Number.isFinite(windowMs)
          ? await iterator(shardId, 'AT_TIMESTAMP', { Timestamp: new Date(at.getTime() - windowMs) })
          : await iterator(shardId, 'TRIM_HORIZON');
        let last: string | undefined;
        while (shardIterator) {
          const page: GetRecordsCommandOutput = await client.send(
            new GetRecordsCommand({ ShardIterator: shardIterator, Limit: 1_000 }),
          );
          const records = page.Records ?? [];
          const reachedAt = records.some(
            (r) => (r.ApproximateArrivalTimestamp?.getTime() ?? 0) >= at.getTime(),
          );
          for (const record of records) {
            if ((record.ApproximateArrivalTimestamp?.getTime() ?? 0) >= at.getTime()) break;
            last = record.SequenceNumber;
          }
          if (reachedAt || (records.length === 0 && (page.MillisBehindLatest ?? 0) === 0)) break;
          shardIterator = page.NextShardIterator;
        }
        if (last !== undefined) return { sequenceNumber: last, subSequenceNumber: 0 };
      }
      return { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 };
    },
    describe: () => lister.describeStream(),
    nextRecordAfter: async (shardId, checkpoint) => {
      const isTrimHorizon = checkpoint.sequenceNumber === SentinelCheckpoint.TrimHorizon;
      // At the checkpoint's own record: it may be an aggregated record checkpointed part-way.
      let shardIterator = isTrimHorizon
        ? await iterator(shardId, 'TRIM_HORIZON')
        : await iterator(shardId, 'AT_SEQUENCE_NUMBER', {
            StartingSequenceNumber: checkpoint.sequenceNumber,
          });
      for (let page = 0; shardIterator && page < MAX_EMPTY_PAGES; page++) {
        const output: GetRecordsCommandOutput = await client.send(
          new GetRecordsCommand({ ShardIterator: shardIterator, Limit: 100 }),
        );
        const { records } = toKinesisRecords(
          output.Records ?? [],
          undefined,
          isTrimHorizon ? undefined : checkpoint,
        );
        if (records.length > 0) return records[0];
        if ((output.Records ?? []).length === 0 && (output.MillisBehindLatest ?? 0) === 0) return undefined;
        shardIterator = output.NextShardIterator;
      }
      return undefined;
    },
    listConsumers: async (streamArn) =>
      (await listStreamConsumers({ client: sdkClient, streamArn, callTimeoutMs })).sort((a, b) =>
        a.consumerName.localeCompare(b.consumerName),
      ),
    describeConsumer: async (consumerArn) => {
      try {
        const output = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: consumerArn }));
        const d = output.ConsumerDescription;
        return {
          consumerName: d?.ConsumerName ?? '?',
          consumerArn: d?.ConsumerARN ?? consumerArn,
          status: d?.ConsumerStatus ?? '?',
          createdAt: d?.ConsumerCreationTimestamp,
        };
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },
    deregisterConsumer: (streamArn, consumerName) =>
      deregisterStreamConsumer({ client: sdkClient, streamArn, consumerName, callTimeoutMs }),
    destroy: () => sdkClient.destroy(),
  };
}
