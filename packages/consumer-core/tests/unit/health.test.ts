import { request } from 'node:http';
import { until as waitUntil } from '@shardline/test-kit';
import { describe, expect, it } from 'vitest';
import type { HealthSnapshot, HealthThresholds } from '../../src/index.js';
import {
  ConfigurationError,
  DependencyError,
  evaluateLiveness,
  evaluateReadiness,
  resolveConsumerConfig,
} from '../../src/index.js';
import type { Lease } from '../../src/leases/Lease.js';
import { createTestConsumer, InMemoryLeaseStore, InMemoryStream } from '../../src/testing/index.js';

const until = (condition: () => boolean, timeoutMs = 5_000, what?: string) =>
  waitUntil(condition, timeoutMs, what, 5);

const thresholds: HealthThresholds = {
  maxEventLoopDelayMs: 1_000,
  maxRenewalFailureMs: 10_000,
  stalledShardMs: 60_000,
};

function snapshot(overrides: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    workerId: 'w1',
    state: 'running',
    eventLoop: { delayP99Ms: 12, maxDelayMs: 30 },
    leaseRenewal: { heldLeaseCount: 2, lastRenewalAgoMs: 1_500, failingForMs: undefined },
    shards: [
      {
        shardId: 'shardId-000',
        bufferedBatchCount: 1,
        millisBehindLatest: 0,
        sinceProgressMs: 200,
        failedSessions: 0,
      },
      {
        shardId: 'shardId-001',
        bufferedBatchCount: 0,
        millisBehindLatest: 5_000,
        sinceProgressMs: 900_000,
        failedSessions: 0,
      },
    ],
    ...overrides,
  };
}

describe('health decisions (pure)', () => {
  it('a working worker is healthy and ready; a quiet shard (nothing waiting) is never stalled', () => {
    const live = evaluateLiveness(snapshot(), thresholds);
    const ready = evaluateReadiness(snapshot(), thresholds);
    expect(live.statusCode).toBe(200);
    expect(live.body.status).toBe('ok');
    expect(Object.keys(live.body.checks)).toEqual(['eventLoop', 'leaseRenewal']);
    expect(ready.statusCode).toBe(200);
    expect(ready.body.checks.shards).toMatchObject({ ok: true, activeShardCount: 2, stalled: [] });
  });

  it('a stalled shard fails /readyz, listing it, and never /healthz', () => {
    const stalled = snapshot({
      shards: [
        {
          shardId: 'shardId-002',
          bufferedBatchCount: 3,
          millisBehindLatest: 7_000,
          sinceProgressMs: 60_001,
          failedSessions: 0,
        },
        {
          shardId: 'shardId-000',
          bufferedBatchCount: 1,
          millisBehindLatest: 0,
          sinceProgressMs: 60_000,
          failedSessions: 0,
        },
      ],
    });
    expect(evaluateLiveness(stalled, thresholds).statusCode).toBe(200);
    const ready = evaluateReadiness(stalled, thresholds);
    expect(ready.statusCode).toBe(503);
    expect(ready.body.status).toBe('failing');
    // At the threshold exactly it is not stalled yet.
    expect(ready.body.checks.shards).toMatchObject({
      ok: false,
      stalled: [
        {
          shardId: 'shardId-002',
          stalledForMs: 60_001,
          bufferedBatchCount: 3,
          millisBehindLatest: 7_000,
        },
      ],
    });
    expect(ready.body.checks.shards!.reason).toContain('1 shard(s)');
  });

  it('a shard whose sessions fail here (nothing buffered between sessions) is stalled once no batch was handled for the stall time', () => {
    const failing = (sinceProgressMs: number) =>
      snapshot({
        shards: [
          {
            shardId: 'shardId-003',
            bufferedBatchCount: 0,
            millisBehindLatest: 100,
            sinceProgressMs,
            failedSessions: 3,
          },
        ],
      });
    expect(evaluateReadiness(failing(60_000), thresholds).statusCode).toBe(200);
    const ready = evaluateReadiness(failing(60_001), thresholds);
    expect(ready.statusCode).toBe(503);
    expect(ready.body.checks.shards).toMatchObject({
      stalled: [{ shardId: 'shardId-003', failedSessions: 3 }],
    });
    expect(evaluateLiveness(failing(60_001), thresholds).statusCode).toBe(200);
  });

  it('a slow event loop fails both', () => {
    const slow = snapshot({ eventLoop: { delayP99Ms: 1_001, maxDelayMs: 2_000 } });
    expect(
      evaluateLiveness(snapshot({ eventLoop: { delayP99Ms: 1_000, maxDelayMs: 1_000 } }), thresholds)
        .statusCode,
    ).toBe(200);
    const live = evaluateLiveness(slow, thresholds);
    expect(live.statusCode).toBe(503);
    expect(live.body.checks.eventLoop).toMatchObject({ ok: false, delayP99Ms: 1_001 });
    expect(live.body.checks.leaseRenewal!.ok).toBe(true);
    expect(evaluateReadiness(slow, thresholds).statusCode).toBe(503);
  });

  it('renewals failing for longer than the bound fail both; a shorter outage does not', () => {
    const renewal = (failingForMs: number) =>
      snapshot({ leaseRenewal: { heldLeaseCount: 0, lastRenewalAgoMs: 20_000, failingForMs } });
    expect(evaluateLiveness(renewal(10_000), thresholds).statusCode).toBe(200);
    const live = evaluateLiveness(renewal(10_001), thresholds);
    expect(live.statusCode).toBe(503);
    expect(live.body.checks.leaseRenewal).toMatchObject({
      ok: false,
      failingForMs: 10_001,
      heldLeaseCount: 0,
    });
    expect(evaluateReadiness(renewal(10_001), thresholds).statusCode).toBe(503);
  });

  it('a consumer not running (starting, stopping, stopped) is live but not ready', () => {
    for (const state of ['idle', 'starting', 'stopping', 'stopped'] as const) {
      expect(evaluateLiveness(snapshot({ state }), thresholds).statusCode).toBe(200);
      const ready = evaluateReadiness(snapshot({ state }), thresholds);
      expect(ready.statusCode).toBe(503);
      expect(ready.body.checks.state).toMatchObject({ ok: false, state });
    }
  });
});

describe('health options', () => {
  const base = {
    streamName: 's',
    applicationName: 'app',
    kinesisClient: { send: async () => ({}) },
    dynamoDBClient: { send: async () => ({}) },
  } as never;

  it('are off by default; defaults bind 127.0.0.1 and derive the renewal bound from the failover time', () => {
    expect(resolveConsumerConfig(base).health).toBeUndefined();
    const config = resolveConsumerConfig({
      ...(base as object),
      failoverTimeMs: 4_000,
      health: { port: 8080 },
    } as never);
    expect(config.health).toEqual({
      port: 8080,
      host: '127.0.0.1',
      maxEventLoopDelayMs: 1_000,
      maxRenewalFailureMs: 4_000,
      stalledShardMs: 300_000,
    });
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      resolveConsumerConfig({
        ...(base as object),
        health: {
          port: 70_000,
          host: '',
          maxEventLoopDelayMs: 0,
          stalledShardMs: -1,
          maxRenewalFailureMs: 1.5,
          probe: 1,
        },
      } as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const paths = (error as ConfigurationError).problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      'health.host',
      'health.maxEventLoopDelayMs',
      'health.maxRenewalFailureMs',
      'health.port',
      'health.probe',
      'health.stalledShardMs',
    ]);
    expect(() => resolveConsumerConfig({ ...(base as object), health: {} } as never)).toThrow(/health\.port/);
    expect(() => resolveConsumerConfig({ ...(base as object), health: 8080 } as never)).toThrow(/health/);
  });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: () => { status: string; checks: Record<string, { ok: boolean; [k: string]: unknown }> };
}

function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('health endpoints of a consumer (in memory)', () => {
  it('answer GET and HEAD, 405 and 404 otherwise; a stalled shard fails /readyz only; stop() closes the port', async () => {
    const stream = new InMemoryStream({ shardCount: 2, maxRecordsPerFetch: 5 });
    for (let i = 0; i < 40; i++) stream.putRecord(`k${i}`, `r${i}`);
    const consumer = createTestConsumer({
      stream,
      shutdownTimeoutMs: 200,
      health: { port: 0, stalledShardMs: 300 },
    });
    expect(consumer.healthAddress).toBeUndefined();
    let stuckShard: string | undefined;
    await consumer.run({
      processBatch: async (batch) => {
        stuckShard ??= batch.shardId;
        // One shard's handler never finishes (a hung destination); the other keeps going.
        if (batch.shardId === stuckShard) await new Promise(() => undefined);
      },
    });
    const address = consumer.healthAddress;
    expect(address?.host).toBe('127.0.0.1');
    const port = address!.port;
    expect(port).toBeGreaterThan(0);

    const live = await call(port, '/healthz');
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toContain('application/json');
    expect(live.json().status).toBe('ok');
    const head = await call(port, '/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const post = await call(port, '/readyz', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await call(port, '/metrics')).status).toBe(404);
    expect((await call(port, '/healthz?verbose=1')).status).toBe(200);

    // Stalled once 300 ms pass with its batch unhandled.
    let ready: Answer | undefined;
    await until(() => stuckShard !== undefined, 5_000, 'a batch delivered');
    const deadline = Date.now() + 5_000;
    for (;;) {
      ready = await call(port, '/readyz');
      if (ready.status === 503 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(ready.status).toBe(503);
    const shards = ready.json().checks.shards!;
    expect(shards.stalled).toEqual([
      expect.objectContaining({ shardId: stuckShard, bufferedBatchCount: expect.any(Number) }),
    ]);
    expect((shards.stalled as { stalledForMs: number }[])[0]!.stalledForMs).toBeGreaterThan(300);
    expect((await call(port, '/healthz')).status).toBe(200);

    await consumer.stop();
    expect(consumer.healthAddress).toBeUndefined();
    await expect(call(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a taken port fails start() before the lease table is touched, and leaves nothing listening', async () => {
    const first = createTestConsumer({ stream: new InMemoryStream({ shardCount: 1 }), health: { port: 0 } });
    await first.start();
    const port = first.healthAddress!.port;
    const store = new InMemoryLeaseStore();
    const second = createTestConsumer({
      stream: new InMemoryStream({ shardCount: 1 }),
      leaseStore: store,
      health: { port },
    });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.state).toBe('stopped');
    expect(await store.listLeases()).toEqual([]);
    await second.stop();
    await first.stop();
    await expect(call(port, '/healthz')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('/healthz fails when renewals keep failing past the bound, and recovers with the next renewal', async () => {
    let isTableDown = false;
    class FlakyStore extends InMemoryLeaseStore {
      override async renewLease(lease: Lease): Promise<Lease | undefined> {
        if (isTableDown) throw new DependencyError('dynamodb', 'UpdateItem', new Error('unreachable'), true);
        return super.renewLease(lease);
      }
    }
    const consumer = createTestConsumer({
      stream: new InMemoryStream({ shardCount: 1 }),
      leaseStore: new FlakyStore(),
      failoverTimeMs: 3_000,
      renewIntervalMs: 200,
      health: { port: 0, maxRenewalFailureMs: 400 },
    });
    await consumer.run({ processBatch: async () => undefined });
    const port = consumer.healthAddress!.port;
    const renewal = async () => (await call(port, '/healthz')).json().checks.leaseRenewal!;
    const deadline = Date.now() + 5_000;
    let check = await renewal();
    while (
      (check.lastRenewalAgoMs === null || (check.heldLeaseCount as number) === 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
      check = await renewal();
    }
    expect(check).toMatchObject({ ok: true, heldLeaseCount: 1, failingForMs: null });

    isTableDown = true;
    let failing = await call(port, '/healthz');
    while (failing.status === 200 && Date.now() < deadline + 5_000) {
      await new Promise((r) => setTimeout(r, 50));
      failing = await call(port, '/healthz');
    }
    expect(failing.status).toBe(503);
    expect((failing.json().checks.leaseRenewal!.failingForMs as number) > 400).toBe(true);

    isTableDown = false;
    let recovered = await call(port, '/healthz');
    while (recovered.status !== 200 && Date.now() < deadline + 10_000) {
      await new Promise((r) => setTimeout(r, 50));
      recovered = await call(port, '/healthz');
    }
    expect(recovered.status).toBe(200);
    await consumer.stop();
  });

  it('a shard whose sessions keep failing here (poison policy) stays stalled across sessions', async () => {
    const stream = new InMemoryStream({ shardCount: 2, maxRecordsPerFetch: 5 });
    for (let i = 0; i < 20; i++) stream.putRecord(`k${i}`, `r${i}`);
    let poisonShard: string | undefined;
    let failures = 0;
    const consumer = createTestConsumer({
      stream,
      shutdownTimeoutMs: 200,
      maxShardFailures: 1_000,
      shardFailureBackoffMs: 0,
      health: { port: 0, stalledShardMs: 600 },
    });
    await consumer.run({
      maxAttempts: 1,
      processBatch: async (batch) => {
        poisonShard ??= batch.shardId;
        if (batch.shardId === poisonShard) {
          failures++;
          throw new Error('poison');
        }
      },
    });
    const port = consumer.healthAddress!.port;
    let ready = await call(port, '/readyz');
    const deadline = Date.now() + 10_000;
    while (ready.status !== 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await call(port, '/readyz');
    }
    // Each session is shorter than the stall time: the clock went on across them.
    expect(failures).toBeGreaterThan(1);
    expect(ready.status).toBe(503);
    expect(ready.json().checks.shards!.stalled).toEqual([expect.objectContaining({ shardId: poisonShard })]);
    expect((await call(port, '/healthz')).status).toBe(200);
    await consumer.stop();
  });

  it('/healthz fails after the event loop was blocked', async () => {
    const consumer = createTestConsumer({
      stream: new InMemoryStream({ shardCount: 1 }),
      health: { port: 0, maxEventLoopDelayMs: 250 },
    });
    await consumer.start();
    const port = consumer.healthAddress!.port;
    await new Promise((r) => setTimeout(r, 200));
    expect((await call(port, '/healthz')).status).toBe(200);
    const blockedUntil = performance.now() + 600;
    while (performance.now() < blockedUntil) {
      // A synchronous stretch: nothing else runs.
    }
    const blocked = await call(port, '/healthz');
    expect(blocked.status).toBe(503);
    expect(blocked.json().checks.eventLoop).toMatchObject({ ok: false });
    expect(blocked.json().checks.eventLoop!.maxDelayMs as number).toBeGreaterThanOrEqual(500);
    expect((await call(port, '/readyz')).status).toBe(503);
    await consumer.stop();
  });
});
