import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import {
  type ConsumerEvent,
  createConsumer,
  DynamoDBLeaseStore,
  KinesisShardLister,
  StreamIdentityMismatchError,
  silentLogger,
  streamIdentityOf,
} from '../../src/index.js';
import { ShardSyncer } from '../../src/shard-sync/ShardSyncer.js';
import { clearExitCodeAfterEach, endpointArgs, shardline } from '../helpers/cli.js';
import { kclLeaseItem, putItems } from '../helpers/kclLeaseTable.js';
import {
  makeRecords,
  newStream,
  putRecords,
  readUntil,
  runCollectingBodies,
  useTwins,
  type WrittenRecord,
} from '../helpers/localTwin.js';
import { quickReshardConsumer } from '../helpers/resharding.js';

const { local, faithful, kinesis, dynamodb } = useTwins('faithful');

clearExitCodeAfterEach();

// 64 partition keys: every shard of three rounds of resharding (down to a quarter of the hash space)
// receives records, so every child starts and its parents' leases become deletable.
const KEYS = 64;

it('three rounds of split and merge on kinesis-local: finished leases are deleted, a shard sync after each deletion creates nothing, every record is processed, the table ends with the open lineage only', async () => {
  const { streamName, applicationName, stream: initial } = await newStream(faithful, 'cleanup', 2);
  const consumer = quickReshardConsumer({ kinesis, dynamodb }, streamName, applicationName, {
    leaseCleanupIntervalMs: 300,
    garbageLeaseGracePeriodMs: 5_000,
  });
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
  // An independent shard sync on the same table and stream, run after each deletion the worker reports.
  const checker = new ShardSyncer({
    lister: new KinesisShardLister({ client: kinesis, streamName }),
    store,
    initialPosition: 'TRIM_HORIZON',
    onEvent: () => undefined,
  });
  const events: ConsumerEvent[] = [];
  const syncsAfterDeletion: { leaseKey: string; created: number }[] = [];
  let checks = Promise.resolve();
  consumer.events$.subscribe((event) => {
    events.push(event);
    if (event.type === 'LEASE_DELETED') {
      checks = checks.then(async () => {
        syncsAfterDeletion.push({ leaseKey: event.leaseKey, created: await checker.sync() });
      });
    }
  });
  const seen = await runCollectingBodies(consumer);
  const written: WrittenRecord[] = [];
  let batch = 0;
  const put = async () => {
    written.push(...(await putRecords(kinesis, streamName, makeRecords(96, 'r', KEYS, batch * 96))));
    batch += 1;
  };
  const openShards = async () => (await faithful.waitForStream(streamName)).shardIds;
  const openLineage = async () => {
    const shards = await new KinesisShardLister({ client: kinesis, streamName }).listShards();
    return shards
      .filter((s) => s.isOpen)
      .map((s) => s.shardId)
      .sort();
  };
  // After each reshard: records into the new shards, all of them processed, and the table back to the
  // open shards only (the parents deleted once their children started).
  const settle = async (what: string) => {
    await put();
    await until(() => seen.length >= written.length, 60_000, `every record (${what})`);
    const open = await openLineage();
    await until(
      async () => {
        const keys = (await store.listLeases()).map((l) => l.leaseKey).sort();
        return JSON.stringify(keys) === JSON.stringify(open);
      },
      30_000,
      `only the open lineage in the table (${what})`,
    );
    await checks;
  };

  try {
    await put();
    let [left, right] = initial.shardIds as [string, string];
    for (const round of [1, 2, 3]) {
      const before = await openShards();
      const split = (await faithful.splitShard(streamName, left)).shardIds.filter(
        (id) => !before.includes(id),
      );
      expect(split).toHaveLength(2);
      await settle(`round ${round} split`);
      const beforeMerge = await openShards();
      const merged = (await faithful.mergeShards(streamName, split[0]!, split[1]!)).shardIds.filter(
        (id) => !beforeMerge.includes(id),
      );
      expect(merged).toHaveLength(1);
      await settle(`round ${round} merge`);
      // The next round reshards the other side of the stream.
      [left, right] = [right, merged[0]!];
    }

    // A deletion is reported once its DeleteItem has answered, so the table can show the open lineage
    // a moment before the last LEASE_DELETED arrives: wait for the nine, then for the check after each.
    await until(
      () => events.filter((e) => e.type === 'LEASE_DELETED').length >= 9,
      10_000,
      'the ninth LEASE_DELETED event',
    );
    await checks;
    // The ledger: every record written was processed (at least once).
    expect(new Set(seen)).toEqual(new Set(written.map((r) => r.body)));
    // 6 reshards: 3 split parents, 6 split children merged, and the 2 initial shards' lineages.
    const deleted = events.flatMap((e) => (e.type === 'LEASE_DELETED' ? [e.leaseKey] : []));
    expect(deleted).toHaveLength(9);
    expect(new Set(deleted).size).toBe(deleted.length);
    expect(events.every((e) => e.type !== 'LEASE_DELETED' || e.reason === 'SHARD_COMPLETED')).toBe(true);
    // A shard sync after each deletion created nothing, and no deleted lease ever came back.
    expect(syncsAfterDeletion.map((s) => s.leaseKey).sort()).toEqual([...deleted].sort());
    expect(syncsAfterDeletion.every((s) => s.created === 0)).toBe(true);
    for (const key of deleted) {
      const creations = events.filter((e) => e.type === 'LEASE_CREATED' && e.leaseKey === key);
      expect(creations.length).toBeLessThanOrEqual(1);
    }
    expect((await store.listLeases()).map((l) => l.leaseKey).sort()).toEqual(await openLineage());
  } finally {
    await consumer.stop();
  }
}, 240_000);

it('a recreated stream: a consumer with the old table refuses with StreamIdentityMismatchError naming shardline reset; the opt-in starts; shardline reset binds the table to the new stream', async () => {
  const { streamName, applicationName } = await newStream(faithful, 'recreated', 1);
  const base = {
    streamName,
    applicationName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON' as const,
    idleTimeBetweenReadsMs: 100,
    leaseTakeIntervalMs: 300,
    checkpointIntervalMs: 0,
    failoverTimeMs: 3_000,
    logger: silentLogger,
  };
  const old = await putRecords(kinesis, streamName, makeRecords(30, 'old'));
  await readUntil(createConsumer(base), old.length, 'the old stream read');
  const table = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
  const stampOf = async () =>
    (
      await dynamodb.send(
        new GetItemCommand({
          TableName: applicationName,
          Key: { leaseKey: { S: 'shardId-000000000000' } },
          ConsistentRead: true,
        }),
      )
    ).Item?.shardlineStreamCreatedAt?.S;
  const oldStamp = await stampOf();
  expect(oldStamp).toBeDefined();

  // Deleted and created again under the same name: shard ids restart at shardId-000000000000.
  await faithful.deleteStream(streamName);
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // creation times are kept to the second
  await until(
    async () => {
      try {
        await faithful.createStream(streamName, { shardCount: 1 });
        return true;
      } catch {
        return false; // still being deleted
      }
    },
    30_000,
    'the stream created again',
  );
  const fresh = await putRecords(kinesis, streamName, makeRecords(20, 'new'));

  const refused = createConsumer(base);
  const startedAt = performance.now();
  const error = await refused.run({ processBatch: async () => undefined }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StreamIdentityMismatchError);
  expect((error as Error).message).toContain('shardline reset');
  expect(performance.now() - startedAt).toBeLessThan(10_000);
  expect(await stampOf()).toBe(oldStamp); // nothing was written

  // The opt-in starts, and binds the leases to the new stream.
  const optedIn = createConsumer({ ...base, acceptStreamIdentityChange: true });
  await optedIn.run({ processBatch: async () => undefined });
  await optedIn.stop();
  const newStamp = await stampOf();
  expect(newStamp).toBeDefined();
  expect(newStamp).not.toBe(oldStamp);

  // The deliberate way: shardline reset to TRIM_HORIZON, then a plain consumer reads the new stream whole.
  await new Promise((resolve) => setTimeout(resolve, 3_100)); // the opted-in worker's leases expire
  const { out } = await shardline(
    'reset',
    '--app',
    applicationName,
    '--stream',
    streamName,
    '--to',
    'TRIM_HORIZON',
    '--yes',
    '--watch-ms',
    '1000',
    ...endpointArgs(faithful, local),
  );
  expect(out).toContain('Reset 1 leases.');
  const seen = await readUntil(createConsumer(base), fresh.length, 'the new stream read from TRIM_HORIZON');
  expect([...seen].sort()).toEqual(fresh.map((r) => r.body).sort());
  expect((await table.listLeases()).map((l) => l.leaseKey)).toEqual(['shardId-000000000000']);
}, 120_000);

it('a hand-built Java KCL table still loads with cleanup and the identity guard on: adopted and stamped, its finished parent deleted once the child started, its non-lease items untouched', async () => {
  const stream = await local.createStream(uniqueName('kcl-cleanup'), { shardCount: 2 });
  const [s0, s1] = stream.shardIds as [string, string];
  const written = await putRecords(local.kinesis, stream.streamName, makeRecords(60));
  const of = (shardId: string) => written.filter((r) => r.shardId === shardId);
  const tableName = uniqueName('kcl-cleanup-app');
  await local.createLeaseTable(tableName);
  // As the KCL 2.x/3.x serializer writes them (docs/kcl-compatibility.md); shardId-000000000099 is a
  // finished parent the stream no longer lists.
  await putItems(dynamodb, tableName, [
    kclLeaseItem(s0, { leaseCounter: 17, checkpoint: of(s0)[4]!.sequenceNumber }),
    kclLeaseItem('shardId-000000000099', { leaseCounter: 40, checkpoint: 'SHARD_END', childShardIds: [s1] }),
    kclLeaseItem(s1, { parentShardIds: ['shardId-000000000099'] }),
    { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' }, leaderId: { S: 'java-worker' } },
  ]);

  const consumer = quickReshardConsumer(local, stream.streamName, tableName, {
    leaseCleanupIntervalMs: 300,
    garbageLeaseGracePeriodMs: 60_000,
  });
  const deleted: ConsumerEvent[] = [];
  consumer.events$.subscribe((event) => {
    if (event.type === 'LEASE_DELETED') deleted.push(event);
  });
  const seen = await runCollectingBodies(consumer);
  const expected = [...of(s0).slice(5), ...of(s1)].map((r) => r.body);
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName });
  try {
    await until(() => seen.length >= expected.length, 30_000, 'records after the KCL checkpoints');
    await until(() => deleted.length > 0, 30_000, 'the finished parent deleted');
  } finally {
    await consumer.stop();
  }
  expect([...seen].sort()).toEqual([...expected].sort());
  expect(deleted).toEqual([
    { type: 'LEASE_DELETED', leaseKey: 'shardId-000000000099', reason: 'SHARD_COMPLETED' },
  ]);
  const leases = await store.listLeases();
  expect(leases.map((l) => l.leaseKey).sort()).toEqual([s0, s1].sort());
  const { StreamDescriptionSummary: summary } = await local.kinesis.send(
    new DescribeStreamSummaryCommand({ StreamName: stream.streamName }),
  );
  for (const lease of leases) expect(streamIdentityOf(lease)?.streamArn).toBe(summary?.StreamARN);
  const leader = await dynamodb.send(
    new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: 'Leader' } }, ConsistentRead: true }),
  );
  expect(leader.Item?.leaderId).toEqual({ S: 'java-worker' });
}, 120_000);
