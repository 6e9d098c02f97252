import { Readable } from 'node:stream';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { kinesisClientConfig, type LocalTwinClient, uniqueName } from '@shardline/local';
import { useFaithfulKinesis, useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';

const local = useLocalTwin();
const faithful = useFaithfulKinesis();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function putAndReadBack(stack: LocalTwinClient): Promise<void> {
  const stream = await stack.createStream(uniqueName('put-read'), { shardCount: 2 });
  const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
  try {
    const entries = Array.from({ length: 200 }, (_, i) => ({
      PartitionKey: `user-${i % 17}`,
      Data: encoder.encode(JSON.stringify({ i })),
    }));
    const put = await kinesis.send(
      new PutRecordsCommand({ StreamName: stream.streamName, Records: entries }),
    );
    expect(put.FailedRecordCount ?? 0).toBe(0);

    const seen: number[] = [];
    for (const shardId of stream.shardIds) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream.streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const { Records = [] } = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      const bigInts = Records.map((r) => BigInt(r.SequenceNumber!));
      expect(bigInts).toEqual([...bigInts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      for (const r of Records) seen.push((JSON.parse(decoder.decode(r.Data)) as { i: number }).i);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
    // Both shards received records: the partition keys spread over the hash range.
    expect(new Set(put.Records?.map((r) => r.ShardId)).size).toBe(2);
  } finally {
    kinesis.destroy();
  }
}

describe('Kinesis', () => {
  it('puts and reads back records on kinesalite', () => putAndReadBack(local));
  it('puts and reads back records on kinesis-local', () => putAndReadBack(faithful));

  it('splits a shard on kinesis-local and returns the parent’s ChildShards at its end', async () => {
    const stream = await faithful.createStream(uniqueName('split'), { shardCount: 1 });
    const kinesis = faithful.kinesis;
    const parent = stream.shardIds[0]!;
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.streamName,
        Records: [{ PartitionKey: 'before-split', Data: encoder.encode('1') }],
      }),
    );
    const middle = (2n ** 127n).toString();
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream.streamName,
        ShardToSplit: parent,
        NewStartingHashKey: middle,
      }),
    );
    await faithful.waitForStream(stream.streamName);

    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream.streamName }));
    const children = Shards.filter((s) => s.ParentShardId === parent).map((s) => s.ShardId);
    expect(children).toHaveLength(2);

    let { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream.streamName,
        ShardId: parent,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const data: string[] = [];
    let childShards: string[] | undefined;
    for (let i = 0; i < 20 && ShardIterator; i++) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      data.push(...(page.Records ?? []).map((r) => decoder.decode(r.Data)));
      if (!page.NextShardIterator) childShards = page.ChildShards?.map((c) => c.ShardId!);
      ShardIterator = page.NextShardIterator;
    }
    expect(data).toEqual(['1']);
    expect(ShardIterator).toBeUndefined();
    expect(childShards?.sort()).toEqual(children.sort());
  });

  it('splitShard splits at the middle of the hash key range and mergeShards joins the children, each waiting for ACTIVE', async () => {
    const stream = await faithful.createStream(uniqueName('reshard'), { shardCount: 1 });
    const parent = stream.shardIds[0]!;
    const afterSplit = await faithful.splitShard(stream.streamName, parent);
    const children = afterSplit.shardIds.filter((id) => id !== parent);
    expect(children).toHaveLength(2);
    const { Shards = [] } = await faithful.kinesis.send(
      new ListShardsCommand({ StreamName: stream.streamName }),
    );
    const starts = Shards.filter((s) => children.includes(s.ShardId!)).map(
      (s) => s.HashKeyRange!.StartingHashKey,
    );
    expect(starts.sort()).toEqual(['0', String((2n ** 128n - 1n) / 2n)].sort());

    const afterMerge = await faithful.mergeShards(stream.streamName, children[0]!, children[1]!);
    expect(afterMerge.shardIds.filter((id) => !afterSplit.shardIds.includes(id))).toHaveLength(1);
    await expect(faithful.splitShard(stream.streamName, 'shardId-999999999999')).rejects.toThrow(
      /has no shard shardId-999999999999/,
    );
  });
});

describe('DynamoDB', () => {
  it('applies conditional writes that hold and rejects those that do not', async () => {
    const table = uniqueName('leases');
    await local.createLeaseTable(table);
    const ddb = local.dynamodb;
    const key = { leaseKey: { S: 'shardId-000000000000' } };

    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...key, leaseCounter: { N: '0' } },
        ConditionExpression: 'attribute_not_exists(leaseKey)',
      }),
    );
    await expect(
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { ...key, leaseCounter: { N: '0' } },
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const take = (counter: number) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          ConditionExpression: 'leaseCounter = :c',
          UpdateExpression: 'SET leaseCounter = :n, leaseOwner = :me',
          ExpressionAttributeValues: {
            ':c': { N: String(counter) },
            ':n': { N: String(counter + 1) },
            ':me': { S: 'w1' },
          },
        }),
      );
    await take(0);
    await expect(take(0)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await ddb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Item).toMatchObject({ leaseCounter: { N: '1' }, leaseOwner: { S: 'w1' } });
  });
});

describe('S3', () => {
  it('takes a streamed multipart upload and returns the same bytes', async () => {
    const bucket = uniqueName('multipart');
    await local.createBucket(bucket);
    const partBytes = 5 * 1024 * 1024;
    const totalBytes = partBytes * 2 + 123_457; // three parts: two full, one short
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    const body = Readable.from(
      (function* () {
        while (sent < totalBytes) {
          const n = Math.min(chunk.length, totalBytes - sent);
          const piece = Buffer.alloc(n);
          for (let i = 0; i < n; i++) piece[i] = (sent + i) % 251;
          sent += n;
          yield piece;
        }
      })(),
    );
    const upload = new Upload({
      client: local.s3,
      params: { Bucket: bucket, Key: 'big/object.bin', Body: body },
      partSize: partBytes,
      queueSize: 2,
    });
    const parts: number[] = [];
    upload.on('httpUploadProgress', (p) => parts.push(p.part ?? 0));
    const result = await upload.done();
    expect(result.ETag).toMatch(/-3"$/); // a multipart ETag: MD5 of part MD5s, dash, part count
    expect(Math.max(...parts)).toBe(3);

    const object = await local.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/object.bin' }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    expect(bytes.length).toBe(totalBytes);
    for (const i of [0, 1, partBytes - 1, partBytes, totalBytes - 1]) expect(bytes[i]).toBe(i % 251);
  });

  it('lists keys page by page with a delimiter', async () => {
    const bucket = uniqueName('listing');
    await local.createBucket(bucket);
    const keys = [
      ...Array.from({ length: 7 }, (_, i) => `2026/11/25/00/file-${i}.json`),
      ...Array.from({ length: 3 }, (_, i) => `2026/11/25/01/file-${i}.json`),
      '2026/11/26/00/file-0.json',
      'root.json',
    ];
    for (const Key of keys) await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }));

    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await local.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 4, ContinuationToken: token }),
      );
      pages += 1;
      all.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(3);
    expect(all).toEqual([...keys].sort());

    const hours = await local.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: '2026/11/25/', Delimiter: '/' }),
    );
    expect(hours.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['2026/11/25/00/', '2026/11/25/01/']);
    const top = await local.s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['2026/']);
    expect(top.Contents?.map((o) => o.Key)).toEqual(['root.json']);
  });
});
