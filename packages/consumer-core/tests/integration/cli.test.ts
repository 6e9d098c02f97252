import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import type { ShardStatusRow } from '../../src/cli/shardStatus.js';
import { DynamoDBLeaseStore } from '../../src/index.js';
import { clearExitCodeAfterEach, cliWorker, endpointArgs, shardline } from '../helpers/cli.js';
import { makeRecords, putRecords } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;
clearExitCodeAfterEach();

it('status shows owners, live leases, checkpoints and lag; reset refuses while workers are live, then resets to TRIM_HORIZON and to a timestamp', async () => {
  const streamName = uniqueName('cli');
  const app = uniqueName('cli-app');
  await local.createStream(streamName, { shardCount: 2 });
  const first = await putRecords(kinesis, streamName, makeRecords(40, 'early'));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const between = new Date();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const second = await putRecords(kinesis, streamName, makeRecords(40, 'late', 16, 40));
  const seen = new Set<string>();
  const consumer = cliWorker(local, streamName, app, {
    checkpointIntervalMs: 0,
    idleTimeBetweenReadsMs: 200,
  });
  await consumer.run({
    processBatch: async (batch) => {
      for (const r of batch.records) seen.add(new TextDecoder().decode(r.data));
    },
  });
  await until(() => seen.size === 80, 20_000, 'all records');
  const common = ['--app', app, '--stream', streamName, '--watch-ms', '1500', ...endpointArgs(local)];

  const status = await shardline('status', ...common, '--json');
  const rows = (JSON.parse(status.out) as { shards: ShardStatusRow[] }).shards;
  expect(rows).toHaveLength(2);
  const lastByShard = new Map<string, string>();
  for (const r of [...first, ...second]) lastByShard.set(r.shardId, r.sequenceNumber);
  for (const row of rows) {
    expect(row).toMatchObject({
      owner: 'worker-1',
      liveness: 'live',
      shard: 'open',
      lineage: 'ready',
      lagMs: 0,
    });
    expect(row.checkpoint).toBe(lastByShard.get(row.shardId));
  }
  const table = await shardline('status', ...common, '--no-lag');
  expect(table.out).toMatch(/SHARD\s+STATE\s+OWNER\s+LEASE\s+CHECKPOINT/);
  expect(table.out).toContain('worker-1');

  const refused = await shardline('reset', ...common, '--to', 'TRIM_HORIZON', '--yes');
  expect(refused.exitCode).toBe(2);
  expect(refused.out).toContain('Refusing');

  await consumer.stop();
  const planOnly = await shardline('reset', ...common, '--to', 'TRIM_HORIZON');
  expect(planOnly.exitCode).toBe(1);
  expect(planOnly.out).toContain('Nothing written');
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: app });
  expect((await store.listLeases()).every((l) => /^\d+$/.test(l.checkpoint.sequenceNumber))).toBe(true);

  expect((await shardline('reset', ...common, '--to', 'TRIM_HORIZON', '--yes')).exitCode).toBe(0);
  expect((await store.listLeases()).map((l) => l.checkpoint.sequenceNumber)).toEqual([
    'TRIM_HORIZON',
    'TRIM_HORIZON',
  ]);

  // A timestamp: each shard resumes at its first record written at or after it.
  expect((await shardline('reset', ...common, '--to', between.toISOString(), '--yes')).exitCode).toBe(0);
  const lastEarly = new Map<string, string>();
  for (const r of first) lastEarly.set(r.shardId, r.sequenceNumber);
  for (const lease of await store.listLeases()) {
    expect(lease.checkpoint.sequenceNumber).toBe(lastEarly.get(lease.leaseKey) ?? 'TRIM_HORIZON');
    expect(lease.leaseOwner).toBeUndefined();
  }
  const status2 = JSON.parse((await shardline('status', ...common, '--json', '--no-lag')).out) as {
    shards: ShardStatusRow[];
  };
  expect(status2.shards.every((r) => r.liveness === 'unowned')).toBe(true);
}, 90_000);
