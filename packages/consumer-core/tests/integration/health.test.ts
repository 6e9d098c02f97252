import { request } from 'node:http';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { until } from '@shardline/test-kit';
import { expect, it } from 'vitest';
import { createConsumer, DynamoDBLeaseStore, silentLogger } from '../../src/index.js';
import { makeRecords, putRecords } from '../helpers/localTwin.js';

const local = useLocalTwin();
const { kinesis, dynamodb } = local;

interface Answer {
  readonly status: number;
  readonly body: {
    status: string;
    checks: Record<string, { ok: boolean; [detail: string]: unknown }>;
  };
}

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `path` until `accept` holds; returns the last answer (the assertions follow). */
async function poll(port: number, path: string, accept: (answer: Answer) => boolean, what: string) {
  let last: Answer | undefined;
  await until(
    async () => {
      last = await get(port, path);
      return accept(last);
    },
    30_000,
    what,
    100,
  ).catch(() => undefined);
  return last!;
}

it('health endpoints on the emulators: 200 once leases are held; a hung shard fails /readyz (listed) while /healthz stays 200 and the other shard goes on; stop() closes the port', async () => {
  const streamName = uniqueName('health');
  const applicationName = uniqueName('health-app');
  await local.createStream(streamName, { shardCount: 2 });
  // The independent ledger: what the stream holds, per shard.
  const first = await putRecords(kinesis, streamName, makeRecords(20, 'ok', 16));
  const shardIds = [...new Set(first.map((r) => r.shardId))].sort();
  expect(shardIds).toHaveLength(2);

  const handled = new Set<string>();
  const hungBodies = new Set<string>();
  const consumer = createConsumer({
    streamName,
    applicationName,
    kinesisClient: kinesis,
    dynamoDBClient: dynamodb,
    initialPosition: 'TRIM_HORIZON',
    failoverTimeMs: 3_000,
    leaseTakeIntervalMs: 300,
    idleTimeBetweenReadsMs: 200,
    checkpointIntervalMs: 0,
    shutdownTimeoutMs: 500,
    logger: silentLogger,
    health: { port: 0, stalledShardMs: 1_500 },
  });
  await consumer.run({
    processBatch: async (batch) => {
      for (const record of batch.records) {
        const body = new TextDecoder().decode(record.data);
        // A destination that never answers for this record: the handler hangs.
        if (body.startsWith('hang')) {
          hungBodies.add(body);
          await new Promise(() => undefined);
        }
        handled.add(body);
      }
    },
  });
  const port = consumer.healthAddress!.port;
  try {
    const held = await poll(
      port,
      '/healthz',
      (a) => a.body.checks.leaseRenewal?.heldLeaseCount === 2,
      'both leases held',
    );
    expect(held.status).toBe(200);
    await until(() => first.every((r) => handled.has(r.body)), 30_000, 'the first records handled');
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.shards).toMatchObject({ ok: true, activeShardCount: 2, stalled: [] });

    // One record whose handler hangs, on one shard.
    const [hung] = await putRecords(kinesis, streamName, [
      { partitionKey: first[0]!.partitionKey, body: 'hang-1' },
    ]);
    const hungShard = hung!.shardId;
    const otherShard = shardIds.find((id) => id !== hungShard)!;
    const otherKey = first.find((r) => r.shardId === otherShard)!.partitionKey;
    await until(() => hungBodies.has('hang-1'), 30_000, 'the hanging record delivered');

    const stalled = await poll(port, '/readyz', (a) => a.status === 503, '/readyz 503');
    expect(stalled.status).toBe(503);
    expect(stalled.body.checks.shards!.stalled).toEqual([
      expect.objectContaining({ shardId: hungShard, bufferedBatchCount: expect.any(Number) }),
    ]);
    expect(stalled.body.checks.state).toMatchObject({ ok: true, state: 'running' });
    // Never a restart signal.
    const live = await get(port, '/healthz');
    expect(live.status).toBe(200);
    expect(live.body.checks.leaseRenewal).toMatchObject({ ok: true, heldLeaseCount: 2 });

    // The other shard is not held up: a new record there is handled and checkpointed.
    const [later] = await putRecords(kinesis, streamName, [{ partitionKey: otherKey, body: 'ok-after' }]);
    expect(later!.shardId).toBe(otherShard);
    await until(() => handled.has('ok-after'), 30_000, 'the other shard goes on');
    const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
    await until(
      async () => (await store.getLease(otherShard))?.checkpoint.sequenceNumber === later!.sequenceNumber,
      30_000,
      'the other shard checkpointed',
    );
    expect((await get(port, '/healthz')).status).toBe(200);
  } finally {
    await consumer.stop();
  }
  expect(consumer.healthAddress).toBeUndefined();
  await expect(get(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
}, 120_000);
