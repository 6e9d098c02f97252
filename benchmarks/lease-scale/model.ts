/**
 * The scale model of the lease layer: N workers, each the library's own `LeaseCoordinator` (renewer,
 * taker with the pure `planLeaseTaking`, hand-offs, cleaner, fenced writes) and `ShardSyncer`, wired
 * as `Worker` wires them, over one in-memory lease table charged by the DynamoDB cost model, on
 * virtual time. The shard consumers are stood in for by a checkpoint every `checkpointIntervalMs`
 * through the lease handle (a busy stream), and a hand-off winds down like a shard consumer's: a last
 * checkpoint, then the release.
 *
 * Both assignment modes of `Worker` (`consumer.leaseAssignment`): `'worker'` (every worker lists the
 * table and takes its share; `planLeaseTaking`) and `'leader'` (an elected worker lists the table and
 * assigns with `planLeaseAssignment`; the others read their keys from the lease table's `leaseOwner`
 * index, `OwnerIndex`, with a capacity ledger of its own; leader and heartbeat items in a coordinator
 * table of their own, a second in-memory table with its own ledger). In leader mode, as in `Worker`:
 * no shard sync at start, the sync loop body runs only while this worker leads and is woken on
 * becoming leader, and a sync that created leases asks for an assignment round.
 *
 * Invariant checked throughout: no lease is held (`isHeld`: held and renewed recently enough to act
 * on) by two live workers at once — at every acquisition and every virtual second.
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
  OwnerIndex,
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
    /** @defaultValue 'worker' (as `resolveConsumerConfig`) */
    readonly leaseAssignment?: 'worker' | 'leader';
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
  /** Leader mode: how long a table write takes to reach the `leaseOwner` index's queries, ms. */
  readonly indexLagMs?: number;
}

/** Read and write units per lease-minute of one table (or index), checkpoints apart. */
export interface TableUnits {
  readonly readUnitsPerLeaseMin: number;
  readonly writeUnitsPerLeaseMin: number;
}

/** Per lease-minute figures over a window. */
export interface WindowFigures {
  /** Requests per lease-minute by kind. */
  readonly requestsPerLeaseMin: Record<RequestKind, number>;
  /**
   * Lease upkeep (every kind but checkpoints): requests, read and write units per lease-minute, of the
   * lease table, its `leaseOwner` index and the coordinator table together (see {@link byTable}).
   */
  readonly upkeepRequestsPerLeaseMin: number;
  readonly upkeepReadUnitsPerLeaseMin: number;
  readonly upkeepWriteUnitsPerLeaseMin: number;
  readonly checkpointWriteUnitsPerLeaseMin: number;
  /** The upkeep units by where they were charged (the index and the coordinator table: leader mode). */
  readonly byTable: {
    readonly leaseTable: TableUnits;
    readonly index: TableUnits;
    readonly coordinator: TableUnits;
  };
  readonly throttled: number;
  /** Throttled attempts by request kind (every table and index). */
  readonly throttledByKind: Partial<Record<RequestKind, number>>;
  /** Index writes over an index partition's limit (DynamoDB would throttle the table writes). */
  readonly indexWritesOverLimit: number;
  readonly peakPartitionReadUnits: number;
  readonly peakPartitionWriteUnits: number;
}

/** What one scenario measured. */
export interface ScenarioResult {
  readonly shards: number;
  readonly workers: number;
  readonly leasesExist: boolean;
  readonly leaseAssignment: 'worker' | 'leader';
  /** Partitions of each table and index. */
  readonly partitions: number;
  /** Cold start (empty table) → every lease held and every worker at its fair share, virtual s. */
  readonly coldFairShareS: number | null;
  /** Cold start → every lease held (by anyone), virtual s. */
  readonly coldAllHeldS: number | null;
  readonly steady: WindowFigures;
  /** One worker killed → its leases held by the others and the others at fair share again, virtual s. */
  readonly crashRebalanceS: number | null;
  /** Whether the worker killed was the leader (leader mode). */
  readonly crashVictimWasLeader: boolean;
  /**
   * Leader mode: then the leader killed → fair share again (a new leader elected and assigning), virtual
   * s; `null` when not reached or not run (see {@link leaderCrashRun}).
   */
  readonly leaderCrashRebalanceS: number | null;
  /** Whether the leader was killed (leader mode, at least two workers left after the first crash). */
  readonly leaderCrashRun: boolean;
  /** Throttled attempts over the whole run (every table and index), and the busiest partition-second. */
  readonly throttledTotal: number;
  readonly failedCallsTotal: number;
  readonly indexWritesOverLimitTotal: number;
  /**
   * Lease-table requests over the whole run by kind (all workers): takes are the leader's assignments
   * of unowned or expired leases (or, in worker mode, the workers' takes), hand-offs its moves.
   */
  readonly requestsTotal: Record<RequestKind, number>;
  /** Of `throttledTotal`, table writes throttled because their index partition was at its limit. */
  readonly throttledByIndexTotal: number;
  readonly peakPartitionReadUnits: number;
  readonly peakPartitionWriteUnits: number;
  /** The coordinator table's and the index's busiest partition-seconds (leader mode). */
  readonly peakCoordinatorPartitionUnits: { readonly read: number; readonly write: number };
  readonly peakIndexPartitionUnits: { readonly read: number; readonly write: number };
  /**
   * Times a lease was held by two live workers at once (the invariant; must be 0): found at an
   * acquisition, or at the check every virtual second.
   */
  readonly doubleHolds: number;
  /** Leader elections won over the run (leader mode: 1 at start, then one per leader killed). */
  readonly leadershipChanges: number;
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

/** The tables the workers share: the lease table and, in leader mode, its index and the coordinator table. */
export interface ModelTables {
  readonly table: InMemoryLeaseStore;
  readonly meter: Meter;
  /** Leader mode only. */
  readonly index: OwnerIndex | undefined;
  /** Leader mode only. */
  readonly coordinator: { readonly table: InMemoryLeaseStore; readonly meter: Meter } | undefined;
}

function createTables(
  settings: Pick<ScenarioSettings, 'consumer' | 'costModel' | 'indexLagMs'>,
  time: VirtualTime,
  random: () => number,
): ModelTables {
  const now = () => time.nowMs();
  const meter = new Meter({ ...settings.costModel, random }, now);
  if (settings.consumer.leaseAssignment !== 'leader') {
    return { table: new InMemoryLeaseStore(), meter, index: undefined, coordinator: undefined };
  }
  return {
    table: new InMemoryLeaseStore(),
    meter,
    index: new OwnerIndex(new Meter({ ...settings.costModel, random }, now), settings.indexLagMs ?? 0),
    coordinator: {
      table: new InMemoryLeaseStore(),
      meter: new Meter({ ...settings.costModel, random }, now),
    },
  };
}

/** What the invariant check reads of a worker. */
export interface HoldingView {
  /** Whether the worker is alive and may act on the lease now. */
  holds(leaseKey: string): boolean;
  /** The leases it may act on now. */
  heldKeys(): string[];
}

/** Counts the invariant's violations: a lease held by two live workers at once. */
export class HoldingCheck {
  readonly workers: HoldingView[] = [];
  doubleHolds = 0;
  leadershipChanges = 0;

  /** `worker` just acquired `leaseKey`: no other live worker may hold it. */
  onAcquired(worker: HoldingView, leaseKey: string): void {
    for (const other of this.workers) {
      if (other !== worker && other.holds(leaseKey)) this.doubleHolds += 1;
    }
  }

  /** Every lease held by at most one live worker now. */
  checkAll(): void {
    const seen = new Set<string>();
    for (const worker of this.workers) {
      for (const key of worker.heldKeys()) {
        if (seen.has(key)) this.doubleHolds += 1;
        seen.add(key);
      }
    }
  }
}

/** One worker: the coordinator and the shard syncer as `Worker` wires them, and stand-in shard consumers. */
class ModelWorker {
  readonly workerId: string;
  readonly store: MeteredLeaseStore;
  readonly coordinatorStore: MeteredLeaseStore | undefined;
  readonly #coordinator: LeaseCoordinator;
  readonly #syncer: ShardSyncer;
  readonly #syncLoop: Loop;
  readonly #checkpointTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #random: () => number;
  readonly #checkpointIntervalMs: number;
  readonly #busy: boolean;
  readonly #isLeaderMode: boolean;
  #sequence = 0;
  #alive = true;

  constructor(
    workerId: string,
    tables: ModelTables,
    lister: ShardLister,
    settings: Pick<ScenarioSettings, 'consumer' | 'busy'>,
    time: VirtualTime,
    random: () => number,
    check: HoldingCheck,
  ) {
    this.workerId = workerId;
    this.#random = random;
    this.#busy = settings.busy;
    this.store = new MeteredLeaseStore(tables.table, tables.meter, tables.index);
    this.coordinatorStore = tables.coordinator
      ? new MeteredLeaseStore(tables.coordinator.table, tables.coordinator.meter)
      : undefined;
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
    const isLeaderMode = config.leaseAssignment === 'leader';
    this.#isLeaderMode = isLeaderMode;
    if (isLeaderMode && !this.coordinatorStore) throw new Error('Leader mode needs a coordinator table.');
    const onEvent = () => {};
    this.#syncer = new ShardSyncer({
      lister,
      store: this.store,
      initialPosition: config.initialPosition,
      onEvent,
      onShardsListed: (shards) => this.#coordinator.noteShards(shards),
    });
    // The model has no shard failures: no worker is ever backing off a lease.
    const eligibility = (leases: readonly Lease[]) => {
      const isEligible = eligibleLeases(leases);
      return (lease: Lease) => isEligible(lease) && !isLeaseHalted(lease);
    };
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
      eligibility,
      cleanup: {
        cleanupLeasesUponShardCompletion: config.cleanupLeasesUponShardCompletion,
        cleanupGarbageLeases: config.cleanupGarbageLeases,
        garbageLeaseGracePeriodMs: config.garbageLeaseGracePeriodMs,
        leaseCleanupIntervalMs: config.leaseCleanupIntervalMs,
      },
      ...(isLeaderMode && this.coordinatorStore
        ? {
            leaderAssignment: {
              coordinatorStore: this.coordinatorStore,
              eligibility,
              accepts: () => true,
              onLeadershipChanged: (isLeader: boolean) => {
                if (isLeader) {
                  check.leadershipChanges += 1;
                  this.#syncLoop.wake();
                }
              },
            },
          }
        : {}),
      onLeaseAcquired: (lease) => {
        check.onAcquired(this, lease.leaseKey);
        this.#startShard(lease);
      },
      onLeaseLost: (leaseKey) => this.#stopShard(leaseKey),
      onHandoffRequested: (leaseKey) => void this.#handOff(leaseKey),
    });
    this.#syncLoop = new Loop(
      config.shardSyncIntervalMs,
      async () => {
        if (isLeaderMode && !this.#coordinator.isLeader) return;
        const created = await this.#syncer.sync(this.#syncLoop.signal);
        if (created > 0) this.#coordinator.requestTakeRound();
      },
      () => {},
    );
  }

  /** Whether this worker is alive and may act on the lease now. */
  holds(leaseKey: string): boolean {
    return this.#alive && this.#coordinator.isHeld(leaseKey);
  }

  /** The leases this worker may act on now (none once crashed). */
  heldKeys(): string[] {
    return this.#alive ? this.#coordinator.heldLeaseKeys() : [];
  }

  get isAlive(): boolean {
    return this.#alive;
  }

  get isLeader(): boolean {
    return this.#alive && this.#coordinator.isLeader;
  }

  /**
   * As `Worker.start`: the first shard sync (retried; worker mode only: in leader mode the elected
   * leader syncs), then the lease loops and the sync loop.
   */
  async start(): Promise<void> {
    if (!this.#isLeaderMode) {
      await retry(() => this.#syncer.sync(), { maxAttempts: 10, initialDelayMs: 200, maxDelayMs: 5_000 });
    }
    if (!this.#alive) return;
    this.#coordinator.start();
    this.#syncLoop.start(true);
  }

  /** SIGKILL: nothing more reaches either table. */
  crash(): void {
    this.#alive = false;
    this.store.cutOff();
    this.coordinatorStore?.cutOff();
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

/**
 * Leases held per live worker, and how many leases no live worker holds. A lease counts as held when
 * the table names a live worker as its owner (no hand-off under way) and that worker holds it (has
 * taken or adopted it: in leader mode the leader writes the owner, and the lease is worked on only once
 * the worker found it through the index and renewed it).
 */
function holdings(table: InMemoryLeaseStore, live: ReadonlyMap<string, HoldingView>) {
  const counts = new Map<string, number>([...live.keys()].map((id) => [id, 0]));
  let unheld = 0;
  for (const lease of table.snapshot()) {
    const owner = lease.leaseOwner;
    if (
      owner === undefined ||
      lease.checkpointOwner !== undefined ||
      !live.get(owner)?.holds(lease.leaseKey)
    ) {
      unheld += 1;
      continue;
    }
    counts.set(owner, counts.get(owner)! + 1);
  }
  return { counts, unheld };
}

/** Every lease held by a live worker and each live worker at ⌊S/N⌋ or ⌈S/N⌉. */
function isFair(table: InMemoryLeaseStore, live: ReadonlyMap<string, HoldingView>, shards: number): boolean {
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

/** The ledgers of the model's tables: the lease table, its index and the coordinator table. */
function metersOf(tables: ModelTables): { leaseTable: Meter; index?: Meter; coordinator?: Meter } {
  return {
    leaseTable: tables.meter,
    ...(tables.index ? { index: tables.index.meter } : {}),
    ...(tables.coordinator ? { coordinator: tables.coordinator.meter } : {}),
  };
}

type TableName = 'leaseTable' | 'index' | 'coordinator';
const TABLE_NAMES: readonly TableName[] = ['leaseTable', 'index', 'coordinator'];

/** Runs one scenario on `time` (installed). */
export async function runScenario(
  settings: ScenarioSettings,
  time: VirtualTime,
  random: () => number,
  log: (message: string) => void = () => {},
): Promise<ScenarioResult> {
  const startMs = time.nowMs();
  const firedBefore = time.firedCount;
  const tables = createTables(settings, time, random);
  const { table, meter } = tables;
  const meters = metersOf(tables);
  const lister = staticLister(settings.shards);
  const check = new HoldingCheck();
  const workers = Array.from(
    { length: settings.workers },
    (_, i) =>
      new ModelWorker(`worker-${String(i).padStart(3, '0')}`, tables, lister, settings, time, random, check),
  );
  check.workers.push(...workers);
  const live = new Map(workers.map((w) => [w.workerId, w]));
  const stepMs = 250;
  // The invariant, every virtual second for the whole run.
  const checkTimer = setInterval(() => check.checkAll(), 1_000);

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
  const throttledNow = () => {
    let sum = 0;
    for (const m of Object.values(meters))
      for (const kind of REQUEST_KINDS) sum += m.totals.byKind[kind].throttled;
    return sum;
  };
  const allHeldAt = { value: undefined as number | undefined };
  let nextProgressMs = startMs + 30_000;
  const fairAt = await time.runUntilTrue(
    () => {
      if (time.nowMs() >= nextProgressMs) {
        nextProgressMs += 30_000;
        const { counts, unheld } = holdings(table, live);
        const values = [...counts.values()];
        log(
          `    ${((time.nowMs() - startMs) / 1_000).toFixed(0)} s: ${table.snapshot().length} leases, ${unheld} not held, per worker ${Math.min(...values)}–${Math.max(...values)}, ${meter.totals.byKind.create.requests} creates, ${throttledNow()} throttled`,
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
  const mode = settings.consumer.leaseAssignment ?? 'worker';
  log(
    `  ${settings.shards} shards × ${settings.workers} workers, ${mode} mode${settings.leasesExist ? ' (leases exist)' : ''}: cold start → fair share ${coldFairShareS ?? `> ${settings.maxWaitMs / 1_000}`} s (all held ${coldAllHeldS ?? '—'} s)`,
  );

  // 2. Steady state: let cool-downs and hand-offs settle, then count over the window.
  const failoverTimeMs = settings.consumer.failoverTimeMs ?? 10_000;
  const leaseTakeIntervalMs = settings.consumer.leaseTakeIntervalMs ?? 2 * (failoverTimeMs + 25);
  await time.runUntil(time.nowMs() + failoverTimeMs + leaseTakeIntervalMs);
  const from = Object.fromEntries(Object.entries(meters).map(([name, m]) => [name, m.snapshot()]));
  const startPeaks = Object.fromEntries(
    Object.entries(meters).map(([name, m]) => [name, [m.peakPartitionReadUnits, m.peakPartitionWriteUnits]]),
  ) as Record<string, [number, number]>;
  for (const m of Object.values(meters)) m.resetPeaks();
  const windowStartMs = time.nowMs();
  await time.runUntil(windowStartMs + settings.steadyWindowMs);
  const leaseMinutes = (settings.shards * settings.steadyWindowMs) / 60_000;
  const requestsPerLeaseMin = {} as Record<RequestKind, number>;
  for (const kind of REQUEST_KINDS) requestsPerLeaseMin[kind] = 0;
  let upkeepRequests = 0;
  let throttled = 0;
  const throttledByKind: Partial<Record<RequestKind, number>> = {};
  let checkpointWrite = 0;
  let indexWritesOverLimit = 0;
  const byTable = {} as Record<TableName, TableUnits>;
  for (const name of TABLE_NAMES) {
    const m = meters[name];
    if (!m) {
      byTable[name] = { readUnitsPerLeaseMin: 0, writeUnitsPerLeaseMin: 0 };
      continue;
    }
    const to = m.snapshot();
    const window = diff(to, from[name]!);
    indexWritesOverLimit += to.indexWritesOverLimit - from[name]!.indexWritesOverLimit;
    let read = 0;
    let write = 0;
    for (const kind of REQUEST_KINDS) {
      const k = window[kind];
      requestsPerLeaseMin[kind] += k.requests / leaseMinutes;
      throttled += k.throttled;
      if (k.throttled > 0) throttledByKind[kind] = (throttledByKind[kind] ?? 0) + k.throttled;
      if (kind === 'checkpoint') {
        checkpointWrite += k.writeUnits;
        continue;
      }
      upkeepRequests += k.requests;
      read += k.readUnits;
      write += k.writeUnits;
    }
    byTable[name] = {
      readUnitsPerLeaseMin: read / leaseMinutes,
      writeUnitsPerLeaseMin: write / leaseMinutes,
    };
  }
  const sum = (pick: (units: TableUnits) => number) =>
    TABLE_NAMES.reduce((acc, name) => acc + pick(byTable[name]), 0);
  const steady: WindowFigures = {
    requestsPerLeaseMin,
    upkeepRequestsPerLeaseMin: upkeepRequests / leaseMinutes,
    upkeepReadUnitsPerLeaseMin: sum((u) => u.readUnitsPerLeaseMin),
    upkeepWriteUnitsPerLeaseMin: sum((u) => u.writeUnitsPerLeaseMin),
    checkpointWriteUnitsPerLeaseMin: checkpointWrite / leaseMinutes,
    byTable: { leaseTable: byTable.leaseTable, index: byTable.index, coordinator: byTable.coordinator },
    throttled,
    throttledByKind,
    indexWritesOverLimit,
    peakPartitionReadUnits: meter.peakPartitionReadUnits,
    peakPartitionWriteUnits: meter.peakPartitionWriteUnits,
  };
  const u = (units: TableUnits) =>
    `${units.readUnitsPerLeaseMin.toFixed(3)} RCU + ${units.writeUnitsPerLeaseMin.toFixed(3)} WCU`;
  log(
    `    steady: ${steady.upkeepReadUnitsPerLeaseMin.toFixed(2)} RCU + ${steady.upkeepWriteUnitsPerLeaseMin.toFixed(2)} WCU per lease-min (upkeep; lease table ${u(byTable.leaseTable)}, index ${u(byTable.index)}, coordinator ${u(byTable.coordinator)}), ${steady.upkeepRequestsPerLeaseMin.toFixed(2)} requests; peak partition ${steady.peakPartitionReadUnits} RCU/s, ${steady.peakPartitionWriteUnits} WCU/s; ${throttled} throttled${throttled > 0 ? ` (${JSON.stringify(throttledByKind)})` : ''}`,
  );

  // 3. Crash: one worker is killed; the others take its leases and even out again.
  const waitForFair = async (label: string) => {
    const killedAtMs = time.nowMs();
    const doneAt = await time.runUntilTrue(
      () => isFair(table, live, settings.shards),
      stepMs,
      settings.maxWaitMs,
    );
    const seconds = doneAt === undefined ? null : (doneAt - killedAtMs) / 1_000;
    log(`    ${label} → fair share again: ${seconds ?? `> ${settings.maxWaitMs / 1_000}`} s`);
    return seconds;
  };
  let crashRebalanceS: number | null = null;
  let crashVictimWasLeader = false;
  let leaderCrashRebalanceS: number | null = null;
  let leaderCrashRun = false;
  if (settings.crash && settings.workers > 1) {
    const victim = workers[workers.length - 1]!;
    crashVictimWasLeader = victim.isLeader;
    victim.crash();
    live.delete(victim.workerId);
    crashRebalanceS = await waitForFair(`crash of one worker${crashVictimWasLeader ? ' (the leader)' : ''}`);
    // Leader mode: then the leader itself (a new one is elected and assigns its leases).
    const leader = workers.find((w) => w.isLeader);
    if (leader && live.size > 1) {
      leaderCrashRun = true;
      leader.crash();
      live.delete(leader.workerId);
      leaderCrashRebalanceS = await waitForFair('crash of the leader');
    }
  }

  const throttledTotal = throttledNow();
  let failedCallsTotal = 0;
  let indexWritesOverLimitTotal = 0;
  let throttledByIndexTotal = 0;
  for (const m of Object.values(meters)) {
    failedCallsTotal += m.totals.failedCalls;
    throttledByIndexTotal += m.totals.throttledByIndex;
    indexWritesOverLimitTotal += m.totals.indexWritesOverLimit;
  }
  const peaks = (m: Meter | undefined, name: string) => ({
    read: m ? Math.max(startPeaks[name]![0], m.peakPartitionReadUnits) : 0,
    write: m ? Math.max(startPeaks[name]![1], m.peakPartitionWriteUnits) : 0,
  });
  for (const worker of workers) worker.crash();
  clearInterval(checkTimer);
  await time.runUntil(time.nowMs() + 2_000);
  const leaseTablePeaks = peaks(meter, 'leaseTable');
  return {
    shards: settings.shards,
    workers: settings.workers,
    leasesExist: settings.leasesExist ?? false,
    leaseAssignment: mode,
    partitions: settings.costModel.partitions,
    coldFairShareS,
    coldAllHeldS,
    steady,
    crashRebalanceS,
    crashVictimWasLeader,
    leaderCrashRebalanceS,
    leaderCrashRun,
    throttledTotal,
    failedCallsTotal,
    indexWritesOverLimitTotal,
    throttledByIndexTotal,
    requestsTotal: Object.fromEntries(
      REQUEST_KINDS.map((kind) => [kind, meter.totals.byKind[kind].requests]),
    ) as Record<RequestKind, number>,
    peakPartitionReadUnits: leaseTablePeaks.read,
    peakPartitionWriteUnits: leaseTablePeaks.write,
    peakCoordinatorPartitionUnits: peaks(meters.coordinator, 'coordinator'),
    peakIndexPartitionUnits: peaks(meters.index, 'index'),
    doubleHolds: check.doubleHolds,
    leadershipChanges: check.leadershipChanges,
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
  const tables = createTables(settings, time, random);
  const { table, meter } = tables;
  const lister = staticLister(shards);
  const check = new HoldingCheck();
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
  const a = new ModelWorker('A', tables, lister, scenario, time, random, check);
  const b = new ModelWorker('B', tables, lister, scenario, time, random, check);
  check.workers.push(a, b);
  void a.start();
  await time.runUntilTrue(
    () => holdings(table, new Map([['A', a]])).counts.get('A') === shards,
    100,
    300_000,
  );
  const joinedAtMs = time.nowMs();
  void b.start();
  const fairAt = await time.runUntilTrue(
    () =>
      isFair(
        table,
        new Map([
          ['A', a],
          ['B', b],
        ]),
        shards,
      ),
    100,
    300_000,
  );
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
