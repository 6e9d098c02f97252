/**
 * One worker holding `leases` leases at the default lease settings, with real SDK calls against
 * dynalite: the library's `LeaseCoordinator` and `ShardSyncer` over the `DynamoDBLeaseStore` adapter,
 * no shard reading (the cost of holding leases alone). Measures the process's CPU (share of one core)
 * and memory over a steady window, and the requests sent (counted on its client).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBLeaseStore, silentLogger } from '@shardline/consumer-core';
import { instrumentDynamoDBClient } from '@shardline/consumer-core/testing';
import { dynamoDBClientConfig, type LocalTwinInfo } from '@shardline/local';
import {
  SentinelCheckpoint,
  sentinelPosition,
} from '../../packages/consumer-core/src/checkpoint/ExtendedSequenceNumber.js';
import { monotonicClock } from '../../packages/consumer-core/src/internal/clock.js';
import { LeaseCoordinator } from '../../packages/consumer-core/src/leases/LeaseCoordinator.js';
import { monotonicNowMs, runContender } from '../harness/index.js';

/** Input of the upkeep worker. */
export interface UpkeepWorkerInput {
  readonly info: LocalTwinInfo;
  readonly tableName: string;
  readonly leases: number;
  readonly windowMs: number;
}

const FAILOVER_MS = 10_000;

runContender<UpkeepWorkerInput>(async (input, probe) => {
  const dynamodb = new DynamoDBClient(dynamoDBClientConfig(input.info));
  const counted = instrumentDynamoDBClient(dynamodb);
  const store = new DynamoDBLeaseStore({
    client: counted.client,
    tableName: input.tableName,
    logger: silentLogger,
  });
  await store.initialize();
  const keys = Array.from({ length: input.leases }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
  for (let i = 0; i < keys.length; i += 25) {
    await Promise.all(
      keys.slice(i, i + 25).map((leaseKey) =>
        store.createLeaseIfNotExists({
          leaseKey,
          checkpoint: sentinelPosition(SentinelCheckpoint.TrimHorizon),
          parentShardIds: [],
          hashKeyRange: undefined,
        }),
      ),
    );
  }
  let lost = 0;
  let held = 0;
  const coordinator = new LeaseCoordinator({
    store,
    workerId: 'upkeep',
    // The defaults (docs/kcl-compatibility.md): failover 10 s, renew every failover / 3 − 25 ms,
    // a take round every 2 × (failover + 25 ms).
    failoverTimeMs: FAILOVER_MS,
    renewIntervalMs: FAILOVER_MS / 3 - 25,
    leaseTakeIntervalMs: 2 * (FAILOVER_MS + 25),
    maxLeasesPerWorker: Number.POSITIVE_INFINITY,
    maxLeasesToStealAtOnce: Number.POSITIVE_INFINITY,
    stealCooldownMs: FAILOVER_MS,
    clock: monotonicClock,
    logger: silentLogger,
    onEvent: (event) => {
      if (event.type === 'LEASE_LOST') lost += 1;
    },
    eligibility: () => () => true,
    onLeaseAcquired: () => {
      held += 1;
    },
    onLeaseLost: () => {},
  });
  coordinator.start();
  const deadline = monotonicNowMs() + 300_000;
  while (coordinator.heldLeaseKeys().length < input.leases) {
    if (monotonicNowMs() > deadline) throw new Error(`held ${held} of ${input.leases} leases after 300 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // One renew interval to reach the steady rhythm, then the window.
  await new Promise((resolve) => setTimeout(resolve, FAILOVER_MS / 3));
  const before = new Map(counted.counts());
  const lostBefore = lost;
  probe.mark('steady-start');
  await new Promise((resolve) => setTimeout(resolve, input.windowMs));
  probe.mark('steady-end');
  const rss = process.memoryUsage();
  const { wallMs, cpuUs } = probe.between('steady-start', 'steady-end');
  const after = counted.counts();
  const delta = (kind: string) => (after.get(kind as never) ?? 0) - (before.get(kind as never) ?? 0);
  const heldAtEnd = coordinator.heldLeaseKeys().length;
  await coordinator.stop();
  dynamodb.destroy();
  return {
    upkeep_core_pct: cpuUs / 10 / wallMs,
    upkeep_rss_mib: rss.rss / 1024 / 1024,
    upkeep_heap_mib: rss.heapUsed / 1024 / 1024,
    renewals_per_s: delta('renew') / (wallMs / 1_000),
    scans_per_min: delta('scan') / (wallMs / 60_000),
    cpu_us_per_renewal: cpuUs / Math.max(1, delta('renew')),
    leases_lost_in_window: lost - lostBefore,
    leases_held_at_end: heldAtEnd,
  };
});
