import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamConsumersCommand } from '@aws-sdk/client-kinesis';
import { uniqueName } from '@shardline/local';
import { until } from '@shardline/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  type Consumer,
  type ConsumerEvent,
  type ConsumerOptions,
  createConsumer,
  DynamoDBLeaseStore,
  LeaseTableSchemaError,
  retrievalOf,
  silentLogger,
} from '../../src/index.js';
import { kclLeaseItem, putItems } from '../helpers/kclLeaseTable.js';
import { makeRecords, putRecords, useTwins } from '../helpers/localTwin.js';
import { kinesisFor, RETRIEVAL_MODES, type RetrievalMode, retrievalFor } from '../helpers/retrievalModes.js';

const { local, faithful, kinesis, dynamodb } = useTwins('local');
const consumers: Consumer[] = [];

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.stop()));
});

/** A consumer reading in `mode` (polling on kinesalite, fan-out on kinesis-local), stopped after the file. */
function consumer(
  options: Partial<ConsumerOptions> & Pick<ConsumerOptions, 'streamName' | 'applicationName'>,
  mode: RetrievalMode = 'polling',
): Consumer {
  const c = createConsumer({
    kinesisClient: kinesisFor(mode, local, faithful).kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    retrieval: retrievalFor(mode, { idleTimeBetweenReadsMs: 100 }),
    leaseTakeIntervalMs: 500,
    checkpointIntervalMs: 200,
    logger: silentLogger,
    ...options,
  });
  consumers.push(c);
  return c;
}

const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('consumer on the local twin', () => {
  it('adopts a lease table written by the Java KCL: resumes after each checkpoint, starts the child of a SHARD_END parent, keeps unknown attributes', async () => {
    const stream = await local.createStream(uniqueName('kcl'), { shardCount: 3 });
    const [s0, s1, s2] = stream.shardIds as [string, string, string];
    const written = await putRecords(kinesis, stream.streamName, makeRecords(120));
    const of = (shardId: string) => written.filter((r) => r.shardId === shardId);
    const checkpointAt = of(s0)[9]!;
    const table = uniqueName('kcl-app');
    await local.createLeaseTable(table);
    // Items exactly as the KCL 2.x/3.x serializer writes them (docs/kcl-compatibility.md).
    const leaseEntity = { entityType: { S: 'LEASE' } };
    await putItems(dynamodb, table, [
      kclLeaseItem(
        s0,
        { leaseOwner: 'java-worker-gone', leaseCounter: 17, checkpoint: checkpointAt.sequenceNumber },
        { throughputKBps: { N: '3.25' }, ...leaseEntity },
      ),
      kclLeaseItem(
        'shardId-000000000099',
        { leaseCounter: 40, checkpoint: 'SHARD_END', childShardIds: [s1] },
        leaseEntity,
      ),
      kclLeaseItem(s1, { parentShardIds: ['shardId-000000000099'] }, leaseEntity),
      { leaseKey: { S: 'WorkerMetricStats:java-worker-gone' }, entityType: { S: 'WORKER_METRIC_STATS' } },
      { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' }, leaderId: { S: 'java-worker-gone' } },
      // A KCL 3.x graceful hand-off left half-way: java-old still processing, java-next to take over.
      kclLeaseItem(
        s2,
        { leaseOwner: 'java-next', leaseCounter: 8, checkpoint: of(s2)[4]!.sequenceNumber },
        { checkpointOwner: { S: 'java-old' }, ...leaseEntity },
      ),
    ]);

    const seen: string[] = [];
    const firstSeenAt = new Map<string, number>();
    const c = consumer({ streamName: stream.streamName, applicationName: table, failoverTimeMs: 3_000 });
    const startedAt = performance.now();
    await c.run({
      processBatch: async (batch) => {
        if (!firstSeenAt.has(batch.shardId)) firstSeenAt.set(batch.shardId, performance.now() - startedAt);
        seen.push(...batch.records.map((r) => text(r.data)));
      },
    });
    const expected = [...of(s0).slice(10), ...of(s1), ...of(s2).slice(5)].map((r) => r.body);
    await until(() => seen.length >= expected.length, 30_000, 'records after the KCL checkpoints');
    await c.stop();
    expect([...seen].sort()).toEqual([...expected].sort());

    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { leaseKey: { S: s0 } }, ConsistentRead: true }),
    );
    expect(Item?.throughputKBps).toEqual({ N: '3.25' });
    expect(Item?.entityType).toEqual({ S: 'LEASE' });
    expect(Item?.leaseOwner).toBeUndefined();
    expect(Item?.checkpoint).toEqual({ S: of(s0).at(-1)!.sequenceNumber });
    const metrics = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'Leader' } }, ConsistentRead: true }),
    );
    expect(metrics.Item?.leaderId).toEqual({ S: 'java-worker-gone' });
    // The hand-off lease was left alone until it expired (never processed by two workers), then taken,
    // which clears checkpointOwner.
    expect(firstSeenAt.get(s2)).toBeGreaterThanOrEqual(3_000);
    expect(firstSeenAt.get(s1)).toBeLessThan(3_000); // the unowned child of a SHARD_END parent at once
    const handoff = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { leaseKey: { S: s2 } }, ConsistentRead: true }),
    );
    expect(handoff.Item?.checkpointOwner).toBeUndefined();
    expect(handoff.Item?.ownerSwitchesSinceCheckpoint).toEqual({ N: '0' });
  });

  it('rejects bad options with one error listing every problem, and a table with the wrong key schema', async () => {
    const error = (() => {
      try {
        createConsumer({
          streamName: '',
          applicationName: 'ab',
          kinesisClient: kinesis,
          dynamoDBClient: undefined as unknown as DynamoDBClient,
          failoverTimeMs: 10,
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems.map((p) => p.path).sort()).toEqual(
      ['applicationName', 'dynamoDBClient', 'failoverTimeMs', 'streamName'].sort(),
    );

    const stream = await local.createStream(uniqueName('schema'), { shardCount: 1 });
    const table = uniqueName('not-leases');
    await local.createTable({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
    const c = consumer({ streamName: stream.streamName, applicationName: table });
    const failure = await c.start().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LeaseTableSchemaError);
    expect((failure as Error).message).toMatch(/pk \(HASH, S\), sk \(RANGE, N\)/);
    expect(c.state).toBe('stopped');
  });
});

describe.each(RETRIEVAL_MODES)('consumer on the local twin reading by %s', (mode) => {
  const twin = kinesisFor(mode, local, faithful);
  const streamKinesis = twin.kinesis;
  it('two applications read the same stream independently, each with its own table and checkpoints', async () => {
    const stream = await twin.createStream(uniqueName('two-apps'), { shardCount: 2 });
    const written = await putRecords(streamKinesis, stream.streamName, makeRecords(300));
    const apps = [uniqueName('app-a'), uniqueName('app-b')];
    const seen = apps.map(() => [] as string[]);
    const running = apps.map((applicationName) =>
      consumer({ streamName: stream.streamName, applicationName }, mode),
    );
    await Promise.all(
      running.map((c, i) =>
        c.run({
          processBatch: async (batch) => void seen[i]!.push(...batch.records.map((r) => text(r.data))),
        }),
      ),
    );
    await until(() => seen.every((s) => s.length >= written.length), 30_000, 'both applications');
    await Promise.all(running.map((c) => c.stop()));
    for (const s of seen) expect([...s].sort()).toEqual(written.map((r) => r.body).sort());
    for (const table of apps) {
      for (const shardId of stream.shardIds) {
        const { Item } = await dynamodb.send(
          new GetItemCommand({ TableName: table, Key: { leaseKey: { S: shardId } } }),
        );
        const last = written.filter((r) => r.shardId === shardId).at(-1)!;
        expect(Item?.checkpoint).toEqual({ S: last.sequenceNumber });
      }
    }
    if (mode === 'fanOut') {
      // Each application read through its own registered consumer (the default name is the
      // application's): kinesis-local refuses a second subscription of one consumer on a shard.
      const { Consumers } = await streamKinesis.send(
        new ListStreamConsumersCommand({ StreamARN: stream.streamArn }),
      );
      expect(Consumers?.map((c) => c.ConsumerName).sort()).toEqual([...apps].sort());
      for (const table of apps) {
        const leases = await new DynamoDBLeaseStore({ client: dynamodb, tableName: table }).listLeases();
        expect(leases.map(retrievalOf)).toEqual(leases.map(() => `fanOut:${table}`));
      }
    }
  });

  it('a graceful stop releases the leases; a worker started right after takes them at once and continues after the checkpoint', async () => {
    const stream = await twin.createStream(uniqueName('handoff'), { shardCount: 3 });
    const applicationName = uniqueName('handoff-app');
    const first = await putRecords(streamKinesis, stream.streamName, makeRecords(150));
    const seenA: string[] = [];
    const a = consumer({ streamName: stream.streamName, applicationName, failoverTimeMs: 10_000 }, mode);
    await a.run({
      processBatch: async (batch) => void seenA.push(...batch.records.map((r) => text(r.data))),
    });
    await until(() => seenA.length >= first.length, 30_000, 'worker A');
    const released: ConsumerEvent[] = [];
    a.events$.subscribe((e) => e.type === 'LEASE_RELEASED' && released.push(e));
    await a.stop();
    expect(released).toHaveLength(3);

    const second = await putRecords(streamKinesis, stream.streamName, makeRecords(90, 'r', 16, 150));
    const seenB: string[] = [];
    const b = consumer({ streamName: stream.streamName, applicationName, failoverTimeMs: 10_000 }, mode);
    const taken: number[] = [];
    const subscribed = new Map<string, number>();
    const startedAt = performance.now();
    b.events$.subscribe((e) => {
      if (e.type === 'LEASE_TAKEN') taken.push(performance.now() - startedAt);
      if (e.type === 'SUBSCRIBED' && !subscribed.has(e.shardId))
        subscribed.set(e.shardId, performance.now() - startedAt);
    });
    await b.run({
      processBatch: async (batch) => void seenB.push(...batch.records.map((r) => text(r.data))),
    });
    await until(() => seenB.length >= second.length, 30_000, 'worker B');
    await b.stop();
    expect(taken).toHaveLength(3);
    // Far below the 10 s failover time: nobody waited for expiry.
    expect(Math.max(...taken)).toBeLessThan(3_000);
    expect([...seenB].sort()).toEqual(second.map((r) => r.body).sort());
    if (mode === 'fanOut') {
      // A cancelled every subscription as it stopped: B subscribed to each shard (kinesis-local frees a
      // closed subscription about 3 s after its client went; B retries meanwhile).
      console.info(
        `[graceful hand-off, fan-out] B subscribed after ${[...subscribed.values()].map(Math.round).join(', ')} ms`,
      );
      expect([...subscribed.keys()].sort()).toEqual([...stream.shardIds].sort());
      expect(Math.max(...subscribed.values())).toBeLessThan(10_000);
    }
  });
});
