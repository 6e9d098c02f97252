/**
 * The scale model of the lease layer: N workers, each the library's own `LeaseCoordinator` (renewer,
 * taker with the pure `planLeaseTaking`, hand-offs, cleaner, fenced writes) and `ShardSyncer`, wired
 * as `Worker` wires them, over one in-memory lease table charged by the DynamoDB cost model, on
 * virtual time. The shard consumers are stood in for by a checkpoint every `checkpointIntervalMs`
 * through the lease handle (a busy stream), and a hand-off winds down like a shard consumer's: a last
 * checkpoint, then the release.
 *
 * Must run with {@link VirtualTime} installed (its own process: see `modelWorker.ts`).
 */
import { retry } from '../../packages/common/src/retry.js';
import { resolveConsumerConfig } from '../../packages/consumer-core/src/config/resolveConsumerConfig.js';
import { Loop } from '../../packages/consumer-core/src/internal/Loop.js';
import { silentLogger } from '../../packages/consumer-core/src/internal/logger.js';
import { InMemoryLeaseStore } from '../../packages/consumer-core/src/leases/InMemoryLeaseStore.js';
import type { Lease } from '../../packages/consumer-core/src/leases/Lease.js';
import { LeaseCoordinator } from '../../packages/consumer-core/src/leases/LeaseCoordinator.js';
import { isLeaseHalted } from '../../packages/consumer-core/src/leases/shardFailure.js';
import type { ShardLister } from '../../packages/consumer-core/src/shard-sync/ShardLister.js';
import { ShardSyncer } from '../../packages/consumer-core/src/shard-sync/ShardSyncer.js';
import {
  eligibleLeases,
  type ShardDescription,
} from '../../packages/consumer-core/src/shard-sync/shardLineage.js';
import {
  type CostModelSettings,
  type KindTotals,
  Meter,
  MeteredLeaseStore,
  type MeterTotals,
  REQUEST_KINDS,
  type RequestKind,
} from './costModel.js';
import type { VirtualTime } from './virtualTime.js';

/** One scenario of the model. */
export interface ScenarioSettings {
  readonly shards: number;
  readonly workers: number;
  /**
   * The leases exist (unowned) before the workers start: a fleet restarted after a graceful stop, or a
   * table created by an earlier deployment. Otherwise the table starts empty and the workers' first
   * shard sync creates the leases.
   */
  readonly leasesExist?: boolean;
  /** Consumer options as a user would give them (the rest at their defaults). */
  readonly consumer: {
    readonly failoverTimeMs?: number;
    readonly leaseTakeIntervalMs?: number;
    readonly checkpointIntervalMs?: number;
  };
  /** Every held shard checkpoints every `checkpointIntervalMs` (a stream with data on every shard). */
  readonly busy: boolean;
  /** Workers start at random times within this window (a deployment), ms. */
  readonly startSpreadMs: number;
  /** The steady-state window, ms of virtual time. */
  readonly steadyWindowMs: number;
  /** Give up waiting for fair share after this long, ms of virtual time. */
  readonly maxWaitMs: number;
  /** Run the crash of one worker after the steady state. */
  readonly crash: boolean;
  readonly costModel: Omit<CostModelSettings, 'random'>;
}

/** Per lease-minute figures over a window. */
export interface WindowFigures {
  /** Requests per lease-minute by kind. */
  readonly requestsPerLeaseMin: Record<RequestKind, number>;
  /** Lease upkeep (every kind but checkpoints): requests, read and write units per lease-minute. */
  readonly upkeepRequestsPerLeaseMin: number;
  readonly upkeepReadUnitsPerLeaseMin: number;
  readonly upkeepWriteUnitsPerLeaseMin: number;
  readonly checkpointWriteUnitsPerLeaseMin: number;
  readonly throttled: number;
  readonly peakPartitionReadUnits: number;
  readonly peakPartitionWriteUnits: number;
}

/** What one scenario measured. */
export interface ScenarioResult {
  readonly shards: number;
  readonly workers: number;
  readonly leasesExist: boolean;
  /** Cold start (empty table) → every lease held and every worker at its fair share, virtual s. */
  readonly coldFairShareS: number | null;
  /** Cold start → every lease held (by anyone), virtual s. */
  readonly coldAllHeldS: number | null;
  readonly steady: WindowFigures;
  /** One worker killed → its leases held by the others and the others at fair share again, virtual s. */
  readonly crashRebalanceS: number | null;
  /** Throttled attempts over the whole run, and the busiest partition-second. */
  readonly throttledTotal: number;
  readonly failedCallsTotal: number;
  readonly peakPartitionReadUnits: number;
  readonly peakPartitionWriteUnits: number;
  /** Virtual seconds simulated and timer callbacks run. */
  readonly simulatedS: number;
  readonly timersFired: number;
}

const unusedClient = { send: () => Promise.reject(new Error('The model makes no AWS calls.')) };

/** A stream of `count` open shards, none with parents. */
function staticLister(count: number): ShardLister {
  const shards: ShardDescription[] = Array.from({ length: count }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, '0')}`,
    parentShardIds: [],
    hashKeyRange: {
      startingHashKey: ((2n ** 128n * BigInt(i)) / BigInt(count)).toString(),
      endingHashKey: ((2n ** 128n * BigInt(i + 1)) / BigInt(count) - 1n).toString(),
    },
    isOpen: true,
  }));
  return { listShards: async () => shards };
}

/** One worker: the coordinator and the shard syncer as `Worker` wires them, and stand-in shard consumers. */
class ModelWorker {
  readonly workerId: string;
  readonly store: MeteredLeaseStore;
  readonly #coordinator: LeaseCoordinator;
  readonly #syncer: ShardSyncer;
  readonly #syncLoop: Loop;
  readonly #checkpointTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #random: () => number;
  readonly #checkpointIntervalMs: number;
  readonly #busy: boolean;
  #sequence = 0;
  #alive = true;

  constructor(
    workerId: string,
    inner: InMemoryLeaseStore,
    meter: Meter,
    lister: ShardLister,
    settings: ScenarioSettings,
    time: VirtualTime,
    random: () => number,
  ) {
    this.workerId = workerId;
    this.#random = random;
    this.#busy = settings.busy;
    this.store = new MeteredLeaseStore(inner, meter);
    const config = resolveConsumerConfig({
      streamName: 'model',
      applicationName: 'model',
      workerId,
      kinesisClient: unusedClient as never,
      dynamoDBClient: unusedClient as never,
      logger: silentLogger,
      clock: time.clock,
      initialPosition: 'TRIM_HORIZON',
      ...settings.consumer,
    });
    this.#checkpointIntervalMs = config.checkpointIntervalMs;
    const onEvent = () => {};
    this.#syncer = new ShardSyncer({
      lister,
      store: this.store,
      initialPosition: config.initialPosition,
      onEvent,
      onShardsListed: (shards) => this.#coordinator.noteShards(shards),
    });
    this.#coordinator = new LeaseCoordinator({
      store: this.store,
      workerId,
      failoverTimeMs: config.failoverTimeMs,
      renewIntervalMs: config.renewIntervalMs,
      leaseTakeIntervalMs: config.leaseTakeIntervalMs,
      maxLeasesPerWorker: config.maxLeasesPerWorker,
      maxLeasesToStealAtOnce: Number.POSITIVE_INFINITY,
      stealCooldownMs: config.failoverTimeMs,
      clock: config.clock,
      logger: config.logger,
      onEvent,
      maxShardFailures: config.maxShardFailures,
      eligibility: (leases) => {
        const isEligible = eligibleLeases(leases);
        return (lease) => isEligible(lease) && !isLeaseHalted(lease);
      },
      cleanup: {
        cleanupLeasesUponShardCompletion: config.cleanupLeasesUponShardCompletion,
        cleanupGarbageLeases: config.cleanupGarbageLeases,
        garbageLeaseGracePeriodMs: config.garbageLeaseGracePeriodMs,
        leaseCleanupIntervalMs: config.leaseCleanupIntervalMs,
      },
      onLeaseAcquired: (lease) => this.#startShard(lease),
      onLeaseLost: (leaseKey) => this.#stopShard(leaseKey),
      onHandoffRequested: (leaseKey) => void this.#handOff(leaseKey),
    });
    this.#syncLoop = new Loop(
      config.shardSyncIntervalMs,
      async () => {
        await this.#syncer.sync(this.#syncLoop.signal);
      },
      () => {},
    );
  }

  /** As `Worker.start`: the first shard sync (retried), then the lease loops and the sync loop. */
  async start(): Promise<void> {
    await retry(() => this.#syncer.sync(), { maxAttempts: 10, initialDelayMs: 200, maxDelayMs: 5_000 });
    if (!this.#alive) return;
    this.#coordinator.start();
    this.#syncLoop.start(true);
  }

  /** SIGKILL: nothing more reaches the table. */
  crash(): void {
    this.#alive = false;
    this.store.cutOff();
    for (const timer of this.#checkpointTimers.values()) clearTimeout(timer);
    this.#checkpointTimers.clear();
    void this.#coordinator.stop();
    void this.#syncLoop.stop(0);
  }

  #startShard(lease: Lease): void {
    if (!this.#busy || this.#checkpointIntervalMs <= 0) return;
    const handle = this.#coordinator.leaseHandle(lease.leaseKey);
    const tick = () => {
      if (!this.#alive || !handle.isHeld()) return;
      this.#sequence += 1;
      void handle
        .checkpoint({
          checkpoint: { sequenceNumber: String(10n ** 55n + BigInt(this.#sequence)), subSequenceNumber: 0 },
        })
        .catch(() => undefined);
      this.#checkpointTimers.set(lease.leaseKey, setTimeout(tick, this.#checkpointIntervalMs));
    };
    // Records arrive all the time: the first checkpoint comes at a random point of the first interval.
    this.#checkpointTimers.set(lease.leaseKey, setTimeout(tick, this.#random() * this.#checkpointIntervalMs));
  }

  #stopShard(leaseKey: string): void {
    const timer = this.#checkpointTimers.get(leaseKey);
    if (timer) clearTimeout(timer);
    this.#checkpointTimers.delete(leaseKey);
  }

  /** A peer asked for the lease: the shard stops fetching, checkpoints what it delivered, releases. */
  async #handOff(leaseKey: string): Promise<void> {
    this.#stopShard(leaseKey);
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (!this.#alive) return;
    const handle = this.#coordinator.leaseHandle(leaseKey);
    if (this.#busy) {
      this.#sequence += 1;
      await handle
        .checkpoint({
          checkpoint: { sequenceNumber: String(10n ** 55n + BigInt(this.#sequence)), subSequenceNumber: 0 },
        })
        .catch(() => undefined);
    }
    await handle.release();
  }
}

/** Leases held per live worker, and whether every lease is held by a live worker. */
function holdings(table: InMemoryLeaseStore, live: ReadonlySet<string>) {
  const counts = new Map<string, number>([...live].map((id) => [id, 0]));
  let unheld = 0;
  for (const lease of table.snapshot()) {
    const owner = lease.leaseOwner;
    if (owner === undefined || lease.checkpointOwner !== undefined || !live.has(owner)) {
      unheld += 1;
      continue;
    }
    counts.set(owner, counts.get(owner)! + 1);
  }
  return { counts, unheld };
}

/** Every lease held by a live worker and each live worker at ⌊S/N⌋ or ⌈S/N⌉. */
function isFair(table: InMemoryLeaseStore, live: ReadonlySet<string>, shards: number): boolean {
  const { counts, unheld } = holdings(table, live);
  if (unheld > 0) return false;
  const low = Math.floor(shards / live.size);
  const high = Math.ceil(shards / live.size);
  for (const count of counts.values()) if (count < low || count > high) return false;
  return true;
}

function diff(to: MeterTotals, from: MeterTotals): Record<RequestKind, KindTotals> {
  const out = {} as Record<RequestKind, KindTotals>;
  for (const kind of REQUEST_KINDS) {
    const a = to.byKind[kind];
    const b = from.byKind[kind];
    out[kind] = {
      requests: a.requests - b.requests,
      readUnits: a.readUnits - b.readUnits,
      writeUnits: a.writeUnits - b.writeUnits,
      throttled: a.throttled - b.throttled,
    };
  }
  return out;
}

/** Runs one scenario on `time` (installed). */
export async function runScenario(
  settings: ScenarioSettings,
  time: VirtualTime,
  random: () => number,
  log: (message: string) => void = () => {},
): Promise<ScenarioResult> {
  const startMs = time.nowMs();
  const firedBefore = time.firedCount;
  const table = new InMemoryLeaseStore();
  const meter = new Meter({ ...settings.costModel, random }, () => time.nowMs());
  const lister = staticLister(settings.shards);
  const workers = Array.from(
    { length: settings.workers },
    (_, i) =>
      new ModelWorker(`worker-${String(i).padStart(3, '0')}`, table, meter, lister, settings, time, random),
  );
  const live = new Set(workers.map((w) => w.workerId));
  const stepMs = 250;

  // 1. Cold start: an empty table (or unowned leases), every worker started within the spread.
  if (settings.leasesExist) {
    for (const shard of await lister.listShards()) {
      await table.createLeaseIfNotExists({
        leaseKey: shard.shardId,
        checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
        parentShardIds: [],
        hashKeyRange: shard.hashKeyRange,
      });
    }
  }
  for (const worker of workers) {
    setTimeout(() => void worker.start().catch(() => undefined), random() * settings.startSpreadMs);
  }
  const allHeldAt = { value: undefined as number | undefined };
  let nextProgressMs = startMs + 30_000;
  const fairAt = await time.runUntilTrue(
    () => {
      if (time.nowMs() >= nextProgressMs) {
        nextProgressMs += 30_000;
        const { counts, unheld } = holdings(table, live);
        const values = [...counts.values()];
        log(
          `    ${((time.nowMs() - startMs) / 1_000).toFixed(0)} s: ${table.snapshot().length} leases, ${unheld} not held, per worker ${Math.min(...values)}–${Math.max(...values)}, ${meter.totals.byKind.create.requests} creates, ${meter.totals.byKind.create.throttled + meter.totals.byKind.scan.throttled + meter.totals.byKind.take.throttled} throttled`,
        );
      }
      if (
        allHeldAt.value === undefined &&
        holdings(table, live).unheld === 0 &&
        table.snapshot().length === settings.shards
      ) {
        allHeldAt.value = time.nowMs();
      }
      return table.snapshot().length === settings.shards && isFair(table, live, settings.shards);
    },
    stepMs,
    settings.maxWaitMs,
  );
  const coldFairShareS = fairAt === undefined ? null : (fairAt - startMs) / 1_000;
  const coldAllHeldS = allHeldAt.value === undefined ? null : (allHeldAt.value - startMs) / 1_000;
  log(
    `  ${settings.shards} shards × ${settings.workers} workers${settings.leasesExist ? ' (leases exist)' : ''}: cold start → fair share ${coldFairShareS ?? `> ${settings.maxWaitMs / 1_000}`} s (all held ${coldAllHeldS ?? '—'} s)`,
  );

  // 2. Steady state: let cool-downs and hand-offs settle, then count over the window.
  const failoverTimeMs = settings.consumer.failoverTimeMs ?? 10_000;
  const leaseTakeIntervalMs = settings.consumer.leaseTakeIntervalMs ?? 2 * (failoverTimeMs + 25);
  await time.runUntil(time.nowMs() + failoverTimeMs + leaseTakeIntervalMs);
  const from = meter.snapshot();
  const startPeaks = [meter.peakPartitionReadUnits, meter.peakPartitionWriteUnits] as const;
  meter.resetPeaks();
  const windowStartMs = time.nowMs();
  await time.runUntil(windowStartMs + settings.steadyWindowMs);
  const window = diff(meter.snapshot(), from);
  const leaseMinutes = (settings.shards * settings.steadyWindowMs) / 60_000;
  const requestsPerLeaseMin = {} as Record<RequestKind, number>;
  let upkeepRequests = 0;
  let upkeepRead = 0;
  let upkeepWrite = 0;
  let throttled = 0;
  for (const kind of REQUEST_KINDS) {
    const k = window[kind];
    requestsPerLeaseMin[kind] = k.requests / leaseMinutes;
    throttled += k.throttled;
    if (kind === 'checkpoint') continue;
    upkeepRequests += k.requests;
    upkeepRead += k.readUnits;
    upkeepWrite += k.writeUnits;
  }
  const steady: WindowFigures = {
    requestsPerLeaseMin,
    upkeepRequestsPerLeaseMin: upkeepRequests / leaseMinutes,
    upkeepReadUnitsPerLeaseMin: upkeepRead / leaseMinutes,
    upkeepWriteUnitsPerLeaseMin: upkeepWrite / leaseMinutes,
    checkpointWriteUnitsPerLeaseMin: window.checkpoint.writeUnits / leaseMinutes,
    throttled,
    peakPartitionReadUnits: meter.peakPartitionReadUnits,
    peakPartitionWriteUnits: meter.peakPartitionWriteUnits,
  };
  log(
    `    steady: ${steady.upkeepReadUnitsPerLeaseMin.toFixed(2)} RCU + ${steady.upkeepWriteUnitsPerLeaseMin.toFixed(2)} WCU per lease-min (upkeep), ${steady.upkeepRequestsPerLeaseMin.toFixed(2)} requests; peak partition ${steady.peakPartitionReadUnits} RCU/s, ${steady.peakPartitionWriteUnits} WCU/s; ${throttled} throttled`,
  );

  // 3. Crash: one worker is killed; the others take its leases and even out again.
  let crashRebalanceS: number | null = null;
  if (settings.crash && settings.workers > 1) {
    const victim = workers[workers.length - 1]!;
    victim.crash();
    live.delete(victim.workerId);
    const killedAtMs = time.nowMs();
    const doneAt = await time.runUntilTrue(
      () => isFair(table, live, settings.shards),
      stepMs,
      settings.maxWaitMs,
    );
    crashRebalanceS = doneAt === undefined ? null : (doneAt - killedAtMs) / 1_000;
    log(
      `    crash of one worker → fair share again: ${crashRebalanceS ?? `> ${settings.maxWaitMs / 1_000}`} s`,
    );
  }

  let throttledTotal = 0;
  for (const kind of REQUEST_KINDS) throttledTotal += meter.totals.byKind[kind].throttled;
  for (const worker of workers) worker.crash();
  await time.runUntil(time.nowMs() + 2_000);
  return {
    shards: settings.shards,
    workers: settings.workers,
    leasesExist: settings.leasesExist ?? false,
    coldFairShareS,
    coldAllHeldS,
    steady,
    crashRebalanceS,
    throttledTotal,
    failedCallsTotal: meter.totals.failedCalls,
    peakPartitionReadUnits: Math.max(startPeaks[0], meter.peakPartitionReadUnits),
    peakPartitionWriteUnits: Math.max(startPeaks[1], meter.peakPartitionWriteUnits),
    simulatedS: (time.nowMs() - startMs) / 1_000,
    timersFired: time.firedCount - firedBefore,
  };
}

/** What the model counts in the sequence of `pnpm bench failover` (16 shards, 2 workers). */
export interface FailoverCheckResult {
  /** Lease-table requests but checkpoints per lease-minute, over the same window as the benchmark's. */
  readonly requestsPerLeaseMin: number;
  readonly byKindPerLeaseMin: Record<RequestKind, number>;
  /** B started → 8/8, virtual s. */
  readonly joinFairShareS: number | null;
}

/**
 * The steps 1–2 of `pnpm bench failover` on the model: A holds all 16 leases, B starts, 8/8, one
 * failover time + 2 s to settle, then the lease-table requests (checkpoints apart) over `windowMs`, with
 * the benchmark's settings (failover 10 s, take interval 5 s, a checkpoint every 5 s on every shard).
 */
export async function runFailoverCheck(
  settings: Pick<ScenarioSettings, 'consumer' | 'costModel'> & { readonly windowMs: number },
  time: VirtualTime,
  random: () => number,
): Promise<FailoverCheckResult> {
  const shards = 16;
  const table = new InMemoryLeaseStore();
  const meter = new Meter({ ...settings.costModel, random }, () => time.nowMs());
  const lister = staticLister(shards);
  const scenario: ScenarioSettings = {
    shards,
    workers: 2,
    consumer: settings.consumer,
    busy: true,
    startSpreadMs: 0,
    steadyWindowMs: settings.windowMs,
    maxWaitMs: 300_000,
    crash: false,
    costModel: settings.costModel,
  };
  const a = new ModelWorker('A', table, meter, lister, scenario, time, random);
  const b = new ModelWorker('B', table, meter, lister, scenario, time, random);
  void a.start();
  await time.runUntilTrue(() => holdings(table, new Set(['A'])).counts.get('A') === shards, 100, 300_000);
  const joinedAtMs = time.nowMs();
  void b.start();
  const fairAt = await time.runUntilTrue(() => isFair(table, new Set(['A', 'B']), shards), 100, 300_000);
  await time.runUntil(time.nowMs() + (settings.consumer.failoverTimeMs ?? 10_000) + 2_000);
  const from = meter.snapshot();
  await time.runUntil(time.nowMs() + settings.windowMs);
  const window = diff(meter.snapshot(), from);
  const leaseMinutes = (shards * settings.windowMs) / 60_000;
  const byKindPerLeaseMin = {} as Record<RequestKind, number>;
  let total = 0;
  for (const kind of REQUEST_KINDS) {
    byKindPerLeaseMin[kind] = window[kind].requests / leaseMinutes;
    if (kind !== 'checkpoint') total += window[kind].requests;
  }
  a.crash();
  b.crash();
  await time.runUntil(time.nowMs() + 2_000);
  return {
    requestsPerLeaseMin: total / leaseMinutes,
    byKindPerLeaseMin,
    joinFairShareS: fairAt === undefined ? null : (fairAt - joinedAtMs) / 1_000,
  };
}
