import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { ShardStatusRow } from '../../src/cli/shardStatus.js';
import {
  type Consumer,
  type ConsumerEvent,
  createConsumer,
  DynamoDBLeaseStore,
  isLeaseHalted,
  shardFailureOf,
  silentLogger,
} from '../../src/index.js';
import { endpointArgs, shardline } from '../helpers/cli.js';
import { killFleet, events as ledgerEvents, readLedger, startFleetWorker } from '../helpers/fleet.js';
import { putRecords } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;
const ledgerDir = mkdtempSync(join(tmpdir(), 'shardline-poison-'));
afterEach(() => {
  process.exitCode = undefined;
  killFleet();
});
afterAll(() => {
  killFleet();
  rmSync(ledgerDir, { recursive: true, force: true });
});

it('a poison record fails the shard on two workers in turn, the count follows the lease, the shard is halted (never bounced), status shows it, and skip moves past it', async () => {
  const streamName = uniqueName('poison');
  const app = uniqueName('poison-app');
  await local.createStream(streamName, { shardCount: 1 });
  // The independent ledger: what the stream holds, in order.
  const written = await putRecords(
    kinesis,
    streamName,
    ['r0', 'r1', 'poison', 'r3', 'r4'].map((body) => ({ partitionKey: 'k', body })),
  );
  const [shardId] = [written[0]!.shardId];
  const poison = written[2]!;

  const handled: string[] = [];
  const poisonTriesByWorker = new Map<string, number>();
  const events: (ConsumerEvent & { workerId: string })[] = [];
  const start = async (workerId: string): Promise<Consumer> => {
    const consumer = createConsumer({
      streamName,
      applicationName: app,
      kinesisClient: kinesis,
      dynamoDBClient: dynamodb,
      workerId,
      initialPosition: 'TRIM_HORIZON',
      failoverTimeMs: 3_000,
      leaseTakeIntervalMs: 200,
      checkpointIntervalMs: 0,
      idleTimeBetweenReadsMs: 200,
      maxRecordsPerFetch: 1,
      maxShardFailures: 4,
      // Long enough that the other worker takes the released shard first, short enough to come back.
      shardFailureBackoffMs: 1_000,
      logger: silentLogger,
    });
    consumer.events$.subscribe((event) => events.push({ ...event, workerId }));
    await consumer.run({
      maxAttempts: 1,
      processBatch: async (batch) => {
        for (const r of batch.records) {
          const body = new TextDecoder().decode(r.data);
          if (body === 'poison') {
            poisonTriesByWorker.set(workerId, (poisonTriesByWorker.get(workerId) ?? 0) + 1);
            throw new Error('cannot deliver the poison record');
          }
          handled.push(body);
        }
      },
    });
    return consumer;
  };
  const a = await start('worker-a');
  await until(() => events.some((e) => e.type === 'LEASE_TAKEN'), 20_000, 'worker-a takes the shard');
  const b = await start('worker-b');
  try {
    await until(() => events.some((e) => e.type === 'SHARD_HALTED'), 60_000, 'the shard is halted');
    const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
    const halted = (await store.getLease(shardId))!;
    // The table (not the workers' report) says: unowned, halted, checkpoint right before the poison.
    expect(halted.leaseOwner).toBeUndefined();
    expect(isLeaseHalted(halted)).toBe(true);
    expect(halted.checkpoint.sequenceNumber).toBe(written[1]!.sequenceNumber);
    expect(shardFailureOf(halted)).toMatchObject({
      failureCount: 4,
      failedAt: written[1]!.sequenceNumber,
      lastFailure: expect.stringContaining('cannot deliver the poison record'),
    });
    const failures = events.filter((e) => e.type === 'SHARD_FAILED');
    expect(failures.map((e) => e.failureCount)).toEqual([1, 2, 3, 4]);
    // Both workers failed on it: the count followed the lease from one worker to the other.
    expect(new Set(failures.map((e) => e.workerId))).toEqual(new Set(['worker-a', 'worker-b']));
    expect([...poisonTriesByWorker.values()].reduce((x, y) => x + y, 0)).toBe(4);
    expect(handled).toEqual(['r0', 'r1']);

    // Never bounced: for several take rounds and past both backoffs nobody takes it.
    const counterAtHalt = halted.leaseCounter;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const still = (await store.getLease(shardId))!;
    expect(still.leaseOwner).toBeUndefined();
    expect(still.leaseCounter).toBe(counterAtHalt);
    expect(events.filter((e) => e.type === 'SHARD_FAILED')).toHaveLength(4);

    const common = ['--app', app, '--stream', streamName, '--watch-ms', '1500', ...endpointArgs(local)];
    const skip = (...args: string[]) => shardline('skip', ...common, '--shard', shardId, ...args);
    const status = JSON.parse((await shardline('status', ...common, '--json', '--no-lag')).out) as {
      shards: ShardStatusRow[];
    };
    expect(status.shards[0]).toMatchObject({ shardId, lineage: 'halted', failureCount: 4 });
    const text = (await shardline('status', ...common, '--no-lag')).out;
    expect(text).toContain(`HALTED ${shardId}`);
    expect(text).toContain(`shardline skip --shard ${shardId} --next`);

    // Skip refuses to go backwards, and wants exactly one of --next and --to.
    const backwards = await skip('--to', written[0]!.sequenceNumber, '--yes');
    expect(backwards.exitCode).toBe(2);
    expect(backwards.out).toContain('is not after the checkpoint');
    await expect(skip('--yes')).rejects.toThrow(/exactly one of/);
    expect((await store.getLease(shardId))!.leaseCounter).toBe(counterAtHalt);

    // Skip: the plan names the poison record; nothing is written without --yes.
    const plan = await skip('--next');
    expect(plan.exitCode).toBe(1);
    expect(plan.out).toContain(`Next record: ${poison.sequenceNumber}`);
    expect(plan.out).toContain('clears the halt');
    expect((await store.getLease(shardId))!.leaseCounter).toBe(counterAtHalt);
    const applied = await skip('--next', '--yes');
    expect(applied.exitCode).toBe(0);
    const skipped = (await store.getLease(shardId))!;
    expect(skipped.checkpoint.sequenceNumber).toBe(poison.sequenceNumber);
    expect(isLeaseHalted(skipped)).toBe(false);
    expect(shardFailureOf(skipped).failureCount).toBe(0);

    // The workers take it again and go on after the poison record.
    await until(() => handled.length === 4, 30_000, 'r3 and r4 processed');
    expect(handled).toEqual(['r0', 'r1', 'r3', 'r4']);
    await until(
      async () => (await store.getLease(shardId))!.checkpoint.sequenceNumber === written[4]!.sequenceNumber,
      10_000,
      'checkpoint at r4',
    );
    // While a worker holds the lease, skip refuses and writes nothing.
    const live = await skip('--to', written[4]!.sequenceNumber, '--yes');
    expect(live.exitCode).toBe(2);
    expect(live.out).toContain('Refusing');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}, 180_000);

it('worker processes: the failure count of a poison shard follows the lease from process to process, and the halted shard is left alone by both', async () => {
  const streamName = uniqueName('poison-fleet');
  const app = uniqueName('poison-fleet-app');
  await local.createStream(streamName, { shardCount: 1 });
  const spec = {
    info: local.info,
    streamName,
    applicationName: app,
    failoverTimeMs: 3_000,
    leaseTakeIntervalMs: 200,
    poisonBody: 'poison',
    maxShardFailures: 3,
    shardFailureBackoffMs: 1_000,
  };
  // Both processes run before the poison record arrives: whichever fails first backs off, and the
  // other takes the shard at its next take round (a process that starts later could miss every try).
  const a = await startFleetWorker({ ...spec, workerId: 'proc-a', ledgerPath: join(ledgerDir, `${app}-a`) });
  const b = await startFleetWorker({ ...spec, workerId: 'proc-b', ledgerPath: join(ledgerDir, `${app}-b`) });
  const all = () => [...readLedger(a.ledgerPath), ...readLedger(b.ledgerPath)];
  await until(() => ledgerEvents(all(), 'LEASE_TAKEN').length > 0, 30_000, 'one of them takes the shard');
  const written = await putRecords(
    kinesis,
    streamName,
    ['r0', 'r1', 'poison', 'r3'].map((body) => ({ partitionKey: 'k', body })),
  );
  const shardId = written[0]!.shardId;
  await until(() => ledgerEvents(all(), 'SHARD_HALTED').length === 1, 60_000, 'the shard is halted');
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
  const halted = (await store.getLease(shardId))!;
  expect(halted.leaseOwner).toBeUndefined();
  expect(isLeaseHalted(halted)).toBe(true);
  expect(shardFailureOf(halted).failureCount).toBe(3);
  expect(halted.checkpoint.sequenceNumber).toBe('TRIM_HORIZON'); // r0–poison came in one batch
  const failures = ledgerEvents(all(), 'SHARD_FAILED').sort((x, y) => x.atMs - y.atMs);
  expect(failures.map((e) => e.extra)).toEqual(['1', '2', '3']);
  const tries = (path: string) => readLedger(path).filter((l) => l.kind === 'X').length;
  expect(tries(a.ledgerPath)).toBeGreaterThanOrEqual(1);
  expect(tries(b.ledgerPath)).toBeGreaterThanOrEqual(1);
  expect(tries(a.ledgerPath) + tries(b.ledgerPath)).toBe(3);
  // Left alone: no process tries it again and the item does not change, past both backoffs.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  expect(tries(a.ledgerPath) + tries(b.ledgerPath)).toBe(3);
  expect((await store.getLease(shardId))!.leaseCounter).toBe(halted.leaseCounter);
  // Nothing after the poison record was processed by anyone.
  expect(all().filter((l) => l.kind === 'P' && l.body === 'r3')).toEqual([]);
  await Promise.all([a.stop(), b.stop()]);
}, 180_000);
