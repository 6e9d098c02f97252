import { GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';

/** The bare loops' start: one `GetShardIterator` at `TRIM_HORIZON` of `shardId`. */
export async function trimHorizonIterator(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string,
): Promise<string | undefined> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  return ShardIterator;
}

/**
 * Warms `kinesis`'s connection and the SDK's code paths before a measured span: one `GetShardIterator`
 * at `LATEST` of `shardId` (it reads and writes nothing).
 */
export async function warmConnection(
  kinesis: KinesisClient,
  streamName: string,
  shardId: string | undefined,
): Promise<void> {
  await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: 'LATEST',
    }),
  );
}
