import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { decodeEnvelope } from '@shardline/ingest';

/**
 * Every event id in the stream, read with a bare GetRecords loop: the independent ledger the archive is
 * checked against (what the ingest API wrote, whatever the sink did).
 */
export async function readStreamEventIds(kinesis: KinesisClient, streamName: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) ids.add(decodeEnvelope(record.Data!).eventId);
      // Caught up: an open shard keeps returning iterators.
      if ((page.Records ?? []).length === 0 || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return ids;
}
