/**
 * `pnpm bench failover`: consumer-core workers as separate processes on kinesalite + dynalite, 16 shards,
 * a producer writing continuously; figures against what the Java KCL's defaults give (derived, see notes).
 * The headline rows run Shardline at its defaults; the `tuned_*` rows with a 5 s lease-take interval.
 *
 * Per round, on a fresh stream and lease table:
 * 1. join: worker A holds all 16 leases; B starts; time until the table shows 8/8 (`join_fair_share_ms`);
 * 2. steady state: lease-table requests of A and B (all but checkpoints), counted at their clients, per
 *    lease per minute over a window (`ddb_requests_per_lease_min`);
 * 3. graceful: A stops; time until B processed a record of every shard A held (`graceful_handoff_ms`),
 *    and records processed by both (`duplicates_graceful`, from the batches' bodies);
 * 4. crash: C joins (8/8), then is SIGKILLed; time until B processed a record of every shard C held
 *    (`crash_takeover_ms`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBLeaseStore } from '@shardline/consumer-core';
import { dynamoDBClientConfig, kinesisClientConfig, type LocalTwin, uniqueName } from '@shardline/local';
import type { BatchEvent, FailoverWorkerInput, RequestsEvent } from './failover/worker.js';
import {
  type BenchmarkContext,
  type ContenderHandle,
  defineBenchmark,
  monotonicNowMs,
  putEvents,
  sampleEvents,
} from './harness/index.js';

interface Params {
  /** Steady-state window for the request count, ms. */
  readonly steadyWindowMs: number;
  /** The workers' failover time (the full run uses the default, the KCL's). */
  readonly failoverTimeMs: number;
  /** The tuned row's lease-table scan interval (the headline row keeps the default, 20 050 ms). */
  readonly tunedLeaseTakeIntervalMs: number;
}

interface Shared {
  readonly stack: LocalTwin;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
}

const SHARDS = 16;
const WORKER = new URL('./failover/worker.ts', import.meta.url);
/** The Java KCL's defaults (docs/kcl-compatibility.md). */
const KCL = { failoverMs: 10_000, renewMs: 10_000 / 3 - 25, takeIntervalMs: 2 * (10_000 + 25) } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = monotonicNowMs() + timeoutMs;
  while (!(await condition())) {
    if (monotonicNowMs() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * One round of the fleet sequence. `tuned` sets `leaseTakeIntervalMs` to the tuned value (scans every
 * 5 s); otherwise every setting but the failover time of a quick run is the library's default.
 */
async function shardlineRound(ctx: BenchmarkContext<Params>, shared: Shared, tuned: boolean) {
  const { stack, kinesis, dynamodb } = shared;
  const SETTINGS = {
    failoverTimeMs: ctx.params.failoverTimeMs,
    ...(tuned ? { leaseTakeIntervalMs: ctx.params.tunedLeaseTakeIntervalMs } : {}),
  };
  const stream = await stack.createStream(uniqueName('bench-failover'), { shardCount: SHARDS });
  const applicationName = uniqueName('bench-failover-app');
  const store = new DynamoDBLeaseStore({ client: dynamodb, tableName: applicationName });
  const owners = async () => {
    const counts = new Map<string, number>();
    for (const lease of await store.listLeases().catch(() => [])) {
      if (lease.leaseOwner && !lease.checkpointOwner)
        counts.set(lease.leaseOwner, (counts.get(lease.leaseOwner) ?? 0) + 1);
    }
    return counts;
  };
  const batches: BatchEvent[] = [];
  const requests = new Map<string, RequestsEvent>();
  const start = (workerId: string): ContenderHandle =>
    ctx.startContender(
      WORKER,
      {
        info: stack.info,
        streamName: stream.streamName,
        applicationName,
        workerId,
        ...SETTINGS,
      } satisfies FailoverWorkerInput,
      {
        timeoutMs: 900_000,
        onEvent: (event) => {
          if (event.name === 'batch') batches.push(event.data as BatchEvent);
          if (event.name === 'requests') {
            const data = event.data as RequestsEvent;
            requests.set(data.workerId, data);
          }
        },
      },
    );
  // A producer writing continuously: a few sample events every 100 ms.
  const events = sampleEvents(100_000);
  let produced = 0;
  let isProducing = true;
  const producing = (async () => {
    while (isProducing) {
      await putEvents(kinesis, {
        streamName: stream.streamName,
        events: events.slice(produced, produced + 16),
      });
      produced += 16;
      await sleep(100);
    }
  })();
  /** For each shard, the first time `workerId` processed a batch of it after `sinceMs`. */
  const firstBatchAfter = (workerId: string, shardIds: readonly string[], sinceMs: number) =>
    shardIds.map(
      (shardId) =>
        batches.find((b) => b.workerId === workerId && b.shardId === shardId && b.atMs >= sinceMs)?.atMs,
    );
  const heldBy = (workerId: string) => async () =>
    (await store.listLeases()).filter((l) => l.leaseOwner === workerId).map((l) => l.leaseKey);
  try {
    const a = start('A');
    await until('A to hold all 16 leases', async () => (await owners()).get('A') === SHARDS);
    // 1. join
    const joinedAtMs = monotonicNowMs();
    const b = start('B');
    await until('8/8', async () => {
      const counts = await owners();
      return counts.get('A') === SHARDS / 2 && counts.get('B') === SHARDS / 2;
    });
    const joinFairShareMs = monotonicNowMs() - joinedAtMs;
    ctx.log(`join to fair share: ${Math.round(joinFairShareMs)} ms`);
    // 2. steady state: let the moves settle (cool-down), then count over the window.
    await sleep(SETTINGS.failoverTimeMs + (ctx.quick ? 0 : 2_000));
    const snapshot = () => {
      let total = 0;
      for (const event of requests.values()) {
        for (const [kind, count] of Object.entries(event.counts)) if (kind !== 'checkpoint') total += count;
      }
      return { total, atMs: monotonicNowMs() };
    };
    const from = snapshot();
    await sleep(ctx.params.steadyWindowMs);
    const to = snapshot();
    const perLeaseMin = (to.total - from.total) / SHARDS / ((to.atMs - from.atMs) / 60_000);
    ctx.log(`lease-table requests per lease-minute: ${perLeaseMin.toFixed(2)}`);
    // 3. graceful stop of A
    const aShards = await heldBy('A')();
    const stoppedAtMs = monotonicNowMs();
    a.stop();
    await a.report;
    await until('B to process every shard A held', () =>
      firstBatchAfter('B', aShards, stoppedAtMs).every((t) => t !== undefined),
    );
    const gracefulMs = Math.max(...firstBatchAfter('B', aShards, stoppedAtMs).map((t) => t! - stoppedAtMs));
    const byA = new Set(batches.filter((x) => x.workerId === 'A').flatMap((x) => x.bodies));
    const duplicates = batches
      .filter((x) => x.workerId === 'B')
      .flatMap((x) => x.bodies)
      .filter((body) => byA.has(body)).length;
    ctx.log(`graceful hand-off: ${Math.round(gracefulMs)} ms, ${duplicates} duplicates`);
    // 4. crash of C
    const c = start('C');
    await until('B/C 8/8', async () => {
      const counts = await owners();
      return counts.get('B') === SHARDS / 2 && counts.get('C') === SHARDS / 2;
    });
    await sleep(ctx.quick ? 0 : 1_000);
    const cShards = await heldBy('C')();
    const killedAtMs = monotonicNowMs();
    c.kill('SIGKILL');
    await c.report.catch(() => undefined);
    await until('B to process every shard C held', () =>
      firstBatchAfter('B', cShards, killedAtMs).every((t) => t !== undefined),
    );
    const crashMs = Math.max(...firstBatchAfter('B', cShards, killedAtMs).map((t) => t! - killedAtMs));
    ctx.log(`crash takeover: ${Math.round(crashMs)} ms`);
    b.stop();
    await b.report;
    return {
      graceful_handoff_ms: gracefulMs,
      crash_takeover_ms: crashMs,
      join_fair_share_ms: joinFairShareMs,
      duplicates_graceful: duplicates,
      ddb_requests_per_lease_min: perLeaseMin,
      failover_time_ms: SETTINGS.failoverTimeMs,
    };
  } finally {
    isProducing = false;
    await producing.catch(() => undefined);
  }
}

/**
 * The Java KCL with its defaults, derived (not run: it needs a JVM): leases are not released on shutdown,
 * so a graceful stop and a crash both wait for expiry (failover) plus, on average, half a lease-taker
 * interval until the next scan notices; a joining worker steals one lease per taker round, so reaching
 * 8 of 16 takes 8 rounds; requests per lease-minute are the renewals (60 000 / renew interval) plus each
 * worker's scans (60 000 / taker interval) shared by the leases (2 workers, 16 leases).
 */
function kclDefaults() {
  const expiryThenScanMs = KCL.failoverMs + KCL.takeIntervalMs / 2;
  return {
    graceful_handoff_ms: expiryThenScanMs,
    crash_takeover_ms: expiryThenScanMs,
    join_fair_share_ms: (SHARDS / 2) * KCL.takeIntervalMs,
    duplicates_graceful: 0,
    ddb_requests_per_lease_min: 60_000 / KCL.renewMs + ((60_000 / KCL.takeIntervalMs) * 2) / SHARDS,
    failover_time_ms: KCL.failoverMs,
  };
}

export default defineBenchmark<Params, Shared>({
  name: 'failover',
  description:
    'consumer-core fleet: join, graceful hand-off, crash takeover, lease-table requests (16 shards)',
  rounds: 3,
  quickRounds: 1,
  params: {
    // Defaults (the KCL's failover time and renew interval, scans every 20 050 ms); tuned: scans every 5 s.
    full: { steadyWindowMs: 60_000, failoverTimeMs: 10_000, tunedLeaseTakeIntervalMs: 5_000 },
    // Smoke only: a short failover time so the whole sequence fits in a short run.
    quick: { steadyWindowMs: 1_000, failoverTimeMs: 3_000, tunedLeaseTakeIntervalMs: 1_500 },
  },
  setup: async (ctx) => {
    const stack = await ctx.startLocalTwin({ s3: false });
    const kinesis = new KinesisClient(kinesisClientConfig(stack.info));
    const dynamodb = new DynamoDBClient(dynamoDBClientConfig(stack.info));
    ctx.defer(() => {
      kinesis.destroy();
      dynamodb.destroy();
    });
    return { stack, kinesis, dynamodb };
  },
  contenders: {
    shardline: (ctx, shared) => shardlineRound(ctx, shared, false),
    'shardline-tuned': (ctx, shared) => shardlineRound(ctx, shared, true),
    'kcl-defaults-derived': async () => kclDefaults(),
  },
  figures: [
    {
      name: 'graceful_handoff_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description: 'stop → the taker processed a record of every shard the stopped worker held',
    },
    {
      name: 'crash_takeover_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description: 'SIGKILL → the taker processed a record of every shard the killed worker held',
    },
    {
      name: 'join_fair_share_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description: 'a second worker starts → 8/8 of 16 leases',
    },
    {
      name: 'duplicates_graceful',
      unit: 'records',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description: 'records processed by both workers across a graceful stop',
    },
    {
      name: 'ddb_requests_per_lease_min',
      unit: '1/min',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description:
        'lease-table requests (renew, take, scan, get, hand-off, release; checkpoints apart) per lease per minute at steady state, 2 workers',
    },
    {
      name: 'failover_time_ms',
      unit: 'ms',
      better: 'lower',
      from: 'shardline',
      baseline: 'kcl-defaults-derived',
      description: 'the failover time used (the KCL default)',
    },
    ...(
      [
        ['graceful_handoff_ms', 'ms'],
        ['crash_takeover_ms', 'ms'],
        ['join_fair_share_ms', 'ms'],
        ['duplicates_graceful', 'records'],
        ['ddb_requests_per_lease_min', '1/min'],
      ] as const
    ).map(([metric, unit]) => ({
      name: `tuned_${metric}`,
      metric,
      unit,
      better: 'lower' as const,
      from: 'shardline-tuned',
      baseline: 'kcl-defaults-derived',
      description: `${metric} with leaseTakeIntervalMs 5000 (tuned; every other setting as the headline row)`,
    })),
  ],
  notes: [
    'Headline rows (shardline): every setting at its default — failoverTimeMs 10000 and renewIntervalMs failover/3 − 25 = 3308 (as the KCL), leaseTakeIntervalMs 20050 (as the KCL), checkpointIntervalMs 5000 — with a producer writing 160 records/s. tuned_* rows (shardline-tuned): the same with leaseTakeIntervalMs 5000. A quick run uses failoverTimeMs 3000 (tuned: leaseTakeIntervalMs 1500); smoke only.',
    'kcl-defaults-derived is derived from the Java KCL defaults (docs/kcl-compatibility.md), not run: graceful and crash = failover 10 000 + half a lease-taker interval (10 025) = 20 025 ms (the KCL never releases on shutdown); join = 8 rounds × 20 050 ms (one steal per round); requests = 60 000 / 3 308 renewals + 2 workers × 60 000 / 20 050 scans / 16 leases = 18.51 per lease-minute; duplicates on a graceful stop: 0 when the application checkpoints in shutdownRequested.',
  ],
});
