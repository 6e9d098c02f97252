/**
 * `pnpm bench lease-scale`: what the lease layer costs and how fast it moves at scale.
 *
 * - `model`: the scale model (`lease-scale/model.ts`): the library's own lease code (`LeaseCoordinator`
 *   with its renewer, taker, pure `planLeaseTaking`, hand-offs and cleaner; in leader mode its
 *   membership, `LeaseAssigner` with the pure `planLeaseAssignment`, and `LeaseDiscovery`; and the
 *   `ShardSyncer`) for N workers over one in-memory lease table (plus, in leader mode, its `leaseOwner`
 *   index and the coordinator table) charged by a DynamoDB cost model, on virtual time, in its own
 *   process. For each scenario (shards × workers × assignment mode): cold start (empty table) → fair
 *   share, the steady state's read and write units per lease-minute, one worker killed → fair share
 *   again (leader mode: then the leader killed → fair share again). The headline figures are leader
 *   mode's; worker mode (the Java KCL 2.x design) runs at 1,000 shards for its cost growth.
 * - `model-check`: the sequence of `pnpm bench failover` (16 shards, 2 workers, worker mode, as that
 *   benchmark runs) on the model, its request count to be read against that benchmark's measured one.
 * - `upkeep`: one real worker (the same coordinator over the DynamoDB adapter and the AWS SDK) holding
 *   1,000 leases at the default settings against dynalite: CPU share of a core and memory.
 *
 * The grid's table goes to stderr and to `bench-results/lease-scale-grid.{json,md}`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type LocalTwin, uniqueName } from '@shardline/local';
import { type BenchmarkContext, defineBenchmark } from './harness/index.js';
import type { ScenarioResult } from './lease-scale/model.js';
import type {
  FailoverCheckEvent,
  GridEntry,
  ModelWorkerInput,
  ScenarioEvent,
} from './lease-scale/modelWorker.js';
import type { UpkeepWorkerInput } from './lease-scale/upkeepWorker.js';

interface Params {
  readonly grid: readonly GridEntry[];
  /**
   * The scenario whose figures stand for "10,000 shards, 100 workers", leader mode (the quick run uses a
   * smaller one).
   */
  readonly headline: { readonly shards: number; readonly workers: number };
  /** The shard count of `cost_growth_2_to_100_workers` (both modes). */
  readonly growthShards: number;
  readonly steadyWindowMs: number;
  readonly failoverCheckSeeds: readonly number[];
  readonly failoverCheckWindowMs: number;
  readonly upkeepLeases: number;
  readonly upkeepWindowMs: number;
}

interface Shared {
  readonly stack: LocalTwin;
}

const MODEL = new URL('./lease-scale/modelWorker.ts', import.meta.url);
const UPKEEP = new URL('./lease-scale/upkeepWorker.ts', import.meta.url);
/** `pnpm bench failover`'s measured lease-table requests per lease-minute (docs/benchmarks.md). */
const FAILOVER_MEASURED_REQUESTS_PER_LEASE_MIN = 16.06;
/** How long a lease-table write takes to show in the `leaseOwner` index (eventually consistent). */
const INDEX_LAG_MS = 500;
/** Fair share not reached within this long (simulated) is reported as this value: the goals are 120 s. */
const MAX_WAIT_MS = 300_000;

const units = (r: ScenarioResult) =>
  r.steady.upkeepReadUnitsPerLeaseMin + r.steady.upkeepWriteUnitsPerLeaseMin;
const orCap = (value: number | null) => value ?? MAX_WAIT_MS / 1_000;

function gridTable(results: readonly ScenarioResult[]): string {
  const fmt = (v: number | null, digits = 1) => (v === null ? `> ${MAX_WAIT_MS / 1_000}` : v.toFixed(digits));
  const lines = [
    '| mode | shards | workers | table at start | cold start → fair share (s) | crash → fair share (s) | leader crash → fair share (s) | RCU / lease-min | WCU / lease-min | of which index RCU + WCU | of which coordinator RCU + WCU | upkeep requests / lease-min | checkpoint WCU / lease-min | peak partition RCU/s | peak partition WCU/s | throttled (steady window) | throttled (run) | double holds |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const { index, coordinator } = r.steady.byTable;
    const start = `${r.leasesExist ? 'leases, unowned' : 'empty'}${r.partitions === COST_MODEL.partitions ? '' : `, ${r.partitions} partitions`}`;
    lines.push(
      `| ${r.leaseAssignment} | ${r.shards.toLocaleString('en')} | ${r.workers} | ${start} | ${fmt(r.coldFairShareS)} | ${fmt(r.crashRebalanceS)}${r.crashVictimWasLeader ? ' (the leader)' : ''} | ${r.leaderCrashRun ? fmt(r.leaderCrashRebalanceS) : '—'} | ${r.steady.upkeepReadUnitsPerLeaseMin.toFixed(2)} | ${r.steady.upkeepWriteUnitsPerLeaseMin.toFixed(2)} | ${(index.readUnitsPerLeaseMin).toFixed(3)} + ${index.writeUnitsPerLeaseMin.toFixed(3)} | ${coordinator.readUnitsPerLeaseMin.toFixed(3)} + ${coordinator.writeUnitsPerLeaseMin.toFixed(3)} | ${r.steady.upkeepRequestsPerLeaseMin.toFixed(2)} | ${r.steady.checkpointWriteUnitsPerLeaseMin.toFixed(2)} | ${r.peakPartitionReadUnits.toFixed(0)} | ${r.peakPartitionWriteUnits.toFixed(0)} | ${r.steady.throttled} | ${r.throttledTotal}${r.throttledByIndexTotal > 0 ? ` (${r.throttledByIndexTotal} by the index)` : ''} | ${r.doubleHolds} |`,
    );
  }
  return lines.join('\n');
}

const COST_MODEL = {
  partitions: 4,
  latencyMs: 5,
  eventuallyConsistentScans: false,
  sdkMaxAttempts: 3,
} as const;

/** Runs the model's process on `grid` and the failover check's `seeds`; collects what it emits. */
async function runModel(
  ctx: BenchmarkContext<Params>,
  grid: Params['grid'],
  seeds: readonly number[],
): Promise<{ results: ScenarioResult[]; checks: FailoverCheckEvent['results'] }> {
  const results: ScenarioResult[] = [];
  let checks: FailoverCheckEvent['results'] = [];
  await ctx.spawnContender(
    MODEL,
    {
      grid,
      scenario: {
        consumer: {},
        indexLagMs: INDEX_LAG_MS,
        busy: true,
        startSpreadMs: 5_000,
        steadyWindowMs: ctx.params.steadyWindowMs,
        maxWaitMs: MAX_WAIT_MS,
        crash: true,
      },
      costModel: COST_MODEL,
      failoverCheckSeeds: seeds,
      failoverCheckWindowMs: ctx.params.failoverCheckWindowMs,
      seed: 20_261_207,
    } satisfies ModelWorkerInput,
    {
      timeoutMs: 3_600_000,
      onEvent: (event) => {
        if (event.name === 'log') ctx.log(String(event.data));
        if (event.name === 'failover-check') {
          checks = (event.data as FailoverCheckEvent).results;
          ctx.log(
            `failover sequence on the model (16 shards): ${checks.map((c) => c.requestsPerLeaseMin.toFixed(2)).join(', ')} requests per lease-minute; join ${checks.map((c) => c.joinFairShareS).join(', ')} s`,
          );
        }
        if (event.name === 'scenario') {
          const data = event.data as ScenarioEvent;
          results.push(data.result);
          ctx.log(
            `  (${data.result.simulatedS.toFixed(0)} s simulated in ${data.realS.toFixed(1)} s, ${data.result.timersFired} timers)`,
          );
        }
      },
    },
  );
  return { results, checks };
}

async function checkRound(ctx: BenchmarkContext<Params>) {
  const { checks } = await runModel(ctx, [], ctx.params.failoverCheckSeeds);
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    model_requests_per_lease_min_16: mean(checks.map((c) => c.requestsPerLeaseMin)),
    model_renewals_per_lease_min_16: mean(checks.map((c) => c.byKindPerLeaseMin.renew)),
    model_join_fair_share_s_16: mean(checks.map((c) => c.joinFairShareS ?? MAX_WAIT_MS / 1_000)),
  };
}

async function modelRound(ctx: BenchmarkContext<Params>) {
  const { results } = await runModel(ctx, ctx.params.grid, []);
  const table = gridTable(results);
  ctx.log(`\n${table}\n`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/lease-scale-grid.json', `${JSON.stringify({ results }, null, 2)}\n`);
  writeFileSync('bench-results/lease-scale-grid.md', `${table}\n`);
  const { headline, growthShards } = ctx.params;
  const isPlain = (r: ScenarioResult) => !r.leasesExist && r.partitions === COST_MODEL.partitions;
  const find = (mode: 'worker' | 'leader', shards: number, workers: number) => {
    const found = results.find(
      (r) => r.leaseAssignment === mode && r.shards === shards && r.workers === workers && isPlain(r),
    );
    if (!found) throw new Error(`scenario ${mode} ${shards} × ${workers} was not run`);
    return found;
  };
  const growth = (mode: 'worker' | 'leader') => {
    const workerCounts = [
      ...new Set(
        ctx.params.grid
          .filter((g) => (g.leaseAssignment ?? 'worker') === mode && g.shards === growthShards)
          .map((g) => g.workers),
      ),
    ].sort((a, b) => a - b);
    const fewest = find(mode, growthShards, workerCounts[0]!);
    const most = find(mode, growthShards, workerCounts.at(-1)!);
    return { ratio: units(most) / units(fewest), fewest, most };
  };
  const leader = growth('leader');
  const workerMode = growth('worker');
  const head = find('leader', headline.shards, headline.workers);
  const leaderResults = results.filter((r) => r.leaseAssignment === 'leader');
  const atHeadlineShards = leaderResults.filter(
    (r) => r.shards === headline.shards && r.partitions === COST_MODEL.partitions,
  );
  const warm = leaderResults.find(
    (r) => r.shards === headline.shards && r.workers === headline.workers && r.leasesExist,
  );
  const sized = leaderResults.find(
    (r) => r.shards === headline.shards && r.partitions !== COST_MODEL.partitions,
  );
  const tableUnits = (r: ScenarioResult, name: 'index' | 'coordinator') =>
    r.steady.byTable[name].readUnitsPerLeaseMin + r.steady.byTable[name].writeUnitsPerLeaseMin;
  return {
    cost_growth_2_to_100_workers: leader.ratio,
    units_per_lease_min_fewest_workers: units(leader.fewest),
    units_per_lease_min_most_workers: units(leader.most),
    index_units_per_lease_min_most_workers: tableUnits(leader.most, 'index'),
    coordinator_units_per_lease_min_most_workers: tableUnits(leader.most, 'coordinator'),
    cold_fair_share_s_10k_100: orCap(head.coldFairShareS),
    warm_fair_share_s_10k_100: orCap(warm?.coldFairShareS ?? null),
    crash_rebalance_s_10k_100: orCap(head.crashRebalanceS),
    leader_crash_rebalance_s_10k_100: orCap(head.leaderCrashRebalanceS),
    throttled_requests_10k: atHeadlineShards.reduce((sum, r) => sum + r.throttledTotal, 0),
    throttled_requests_10k_steady: atHeadlineShards.reduce((sum, r) => sum + r.steady.throttled, 0),
    throttled_requests_10k_sized_table: sized ? sized.throttledTotal : -1,
    peak_partition_rcu_per_s_10k: Math.max(...atHeadlineShards.map((r) => r.peakPartitionReadUnits)),
    peak_partition_wcu_per_s_10k: Math.max(...atHeadlineShards.map((r) => r.peakPartitionWriteUnits)),
    double_holds: results.reduce((sum, r) => sum + r.doubleHolds, 0),
    worker_mode_cost_growth_2_to_100_workers: workerMode.ratio,
    worker_mode_units_per_lease_min_fewest_workers: units(workerMode.fewest),
    worker_mode_units_per_lease_min_most_workers: units(workerMode.most),
  };
}

async function upkeepRound(ctx: BenchmarkContext<Params>, shared: Shared) {
  const report = await ctx.spawnContender(
    UPKEEP,
    {
      info: shared.stack.info,
      tableName: uniqueName('bench-lease-upkeep'),
      leases: ctx.params.upkeepLeases,
      windowMs: ctx.params.upkeepWindowMs,
    } satisfies UpkeepWorkerInput,
    { timeoutMs: 900_000 },
  );
  const m = report.metrics;
  ctx.log(
    `upkeep of ${ctx.params.upkeepLeases} leases: ${m.upkeep_core_pct!.toFixed(1)} % of a core, RSS ${m.upkeep_rss_mib!.toFixed(0)} MiB (peak ${report.peakRssMiB.toFixed(0)}), ${m.renewals_per_s!.toFixed(0)} renewals/s, ${m.cpu_us_per_renewal!.toFixed(0)} µs CPU per renewal, ${m.leases_lost_in_window} lost`,
  );
  return {
    upkeep_core_pct_1000_leases: m.upkeep_core_pct!,
    upkeep_rss_mib_1000_leases: m.upkeep_rss_mib!,
    upkeep_peak_rss_mib_1000_leases: report.peakRssMiB,
    upkeep_renewals_per_s_1000_leases: m.renewals_per_s!,
    upkeep_cpu_us_per_renewal: m.cpu_us_per_renewal!,
    upkeep_leases_lost: m.leases_lost_in_window!,
  };
}

const FULL_GRID: readonly GridEntry[] = [
  ...[100, 1_000, 10_000].flatMap((shards) =>
    [2, 20, 100].map((workers) => ({ shards, workers, leaseAssignment: 'leader' as const })),
  ),
  { shards: 10_000, workers: 100, leasesExist: true, leaseAssignment: 'leader' },
  // The same on a table with the partitions its steady write load needs (10,000 busy leases write
  // about 4,300 units a second: more than the 4 partitions of a new on-demand table serve).
  { shards: 10_000, workers: 100, leaseAssignment: 'leader', partitions: 8 },
  // Worker mode (the Java KCL 2.x design), for its cost growth.
  { shards: 1_000, workers: 2, leaseAssignment: 'worker' },
  { shards: 1_000, workers: 100, leaseAssignment: 'worker' },
];

export default defineBenchmark<Params, Shared>({
  name: 'lease-scale',
  description:
    'lease layer at scale: the real lease code on virtual time over a DynamoDB cost model (100–10,000 shards × 2–100 workers), and one real worker holding 1,000 leases on dynalite',
  rounds: 1,
  quickRounds: 1,
  params: {
    full: {
      grid: FULL_GRID,
      headline: { shards: 10_000, workers: 100 },
      growthShards: 1_000,
      steadyWindowMs: 120_000,
      failoverCheckSeeds: [1, 2, 3, 4, 5],
      failoverCheckWindowMs: 300_000,
      upkeepLeases: Number(process.env.LEASE_SCALE_UPKEEP_LEASES ?? 1_000),
      upkeepWindowMs: 60_000,
    },
    // Smoke only (well under a minute): a 100-shard grid whose "1,000 shards" and "10k" figures come
    // from 100 shards × 2 and 20 workers (both modes), one failover check, 50 leases held for 2 s.
    quick: {
      grid: [
        { shards: 100, workers: 2, leaseAssignment: 'leader' },
        { shards: 100, workers: 20, leaseAssignment: 'leader' },
        { shards: 100, workers: 20, leasesExist: true, leaseAssignment: 'leader' },
        { shards: 100, workers: 2, leaseAssignment: 'worker' },
        { shards: 100, workers: 20, leaseAssignment: 'worker' },
      ],
      headline: { shards: 100, workers: 20 },
      growthShards: 100,
      steadyWindowMs: 20_000,
      failoverCheckSeeds: [1],
      failoverCheckWindowMs: 20_000,
      upkeepLeases: 50,
      upkeepWindowMs: 2_000,
    },
  },
  setup: async (ctx) => {
    const stack = await ctx.startLocalTwin({ kinesis: false, s3: false });
    return { stack };
  },
  contenders: {
    'model-check': (ctx) => checkRound(ctx),
    model: (ctx) => modelRound(ctx),
    upkeep: (ctx, shared) => upkeepRound(ctx, shared),
  },
  figures: [
    {
      name: 'cost_growth_2_to_100_workers',
      unit: 'ratio',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 1.5, source: 'goal: lease-table units per lease within 1.5× from 2 to 100 workers' },
      description:
        'leader mode: steady-state lease upkeep (read + write units per lease-minute of the lease table, its leaseOwner index and the coordinator table, checkpoints apart) at 100 workers / at 2 workers, 1,000 shards',
    },
    {
      name: 'units_per_lease_min_fewest_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description: 'leader mode: read + write units per lease-minute of upkeep, 1,000 shards, 2 workers',
    },
    {
      name: 'units_per_lease_min_most_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description: 'leader mode: read + write units per lease-minute of upkeep, 1,000 shards, 100 workers',
    },
    {
      name: 'index_units_per_lease_min_most_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        'of which the leaseOwner index (Query reads, index writes on owner changes), 1,000 shards, 100 workers',
    },
    {
      name: 'coordinator_units_per_lease_min_most_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        'of which the coordinator table (heartbeats, leader item, election reads, hints), 1,000 shards, 100 workers',
    },
    {
      name: 'cold_fair_share_s_10k_100',
      unit: 's',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 120, source: 'goal: ≤ 2 min of simulated time' },
      description:
        'leader mode: empty table, 100 workers start within 5 s → every lease held, every worker at its fair share (simulated s)',
    },
    {
      name: 'warm_fair_share_s_10k_100',
      unit: 's',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 120, source: 'goal: ≤ 2 min of simulated time' },
      description:
        'leader mode: the same start with the leases already in the table, unowned (a fleet restart): the assignment alone',
    },
    {
      name: 'crash_rebalance_s_10k_100',
      unit: 's',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        'leader mode: one of 100 workers (not the leader) killed → its leases held by the others, all at fair share again (simulated s)',
    },
    {
      name: 'leader_crash_rebalance_s_10k_100',
      unit: 's',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        "then the leader killed → a new leader elected, the dead leader's leases assigned, all at fair share again (simulated s)",
    },
    {
      name: 'throttled_requests_10k',
      unit: 'count',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 0, source: 'goal: no partition throttling at 10,000 shards' },
      description:
        'leader mode: throttled request attempts over the 10,000-shard scenarios (4 partitions, 3,000 RCU / 1,000 WCU each; every table and the index)',
    },
    {
      name: 'throttled_requests_10k_steady',
      unit: 'count',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        'of which in the steady windows (renewals and checkpoints of 10,000 busy leases: about 4,300 WCU/s against 4,000)',
    },
    {
      name: 'throttled_requests_10k_sized_table',
      unit: 'count',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 0, source: 'goal: no partition throttling at 10,000 shards' },
      description:
        'leader mode, 10,000 shards × 100 workers on 8 partitions (what the steady write load needs): throttled attempts over the run (-1: not run)',
    },
    {
      name: 'double_holds',
      unit: 'count',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 0, source: 'invariant: no lease held by two live workers at once' },
      description:
        'times a lease was held by two live workers at once, at an acquisition or at the check every virtual second, over every scenario',
    },
    {
      name: 'worker_mode_cost_growth_2_to_100_workers',
      unit: 'ratio',
      better: 'lower',
      from: 'model',
      baseline: null,
      description:
        'worker mode (every worker scans the table each take round; the Java KCL 2.x design): the same ratio, 1,000 shards',
    },
    {
      name: 'worker_mode_units_per_lease_min_fewest_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description: 'worker mode: read + write units per lease-minute of upkeep, 1,000 shards, 2 workers',
    },
    {
      name: 'worker_mode_units_per_lease_min_most_workers',
      unit: 'units/min',
      better: 'lower',
      from: 'model',
      baseline: null,
      description: 'worker mode: read + write units per lease-minute of upkeep, 1,000 shards, 100 workers',
    },
    {
      name: 'peak_partition_rcu_per_s_10k',
      unit: 'units/s',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 3_000, source: 'DynamoDB per-partition read limit' },
      description:
        'the busiest lease-table partition-second of reads in the leader-mode 10,000-shard scenarios (4 partitions)',
    },
    {
      name: 'peak_partition_wcu_per_s_10k',
      unit: 'units/s',
      better: 'lower',
      from: 'model',
      baseline: null,
      reference: { max: 1_000, source: 'DynamoDB per-partition write limit' },
      description:
        'the busiest lease-table partition-second of writes in the leader-mode 10,000-shard scenarios (4 partitions)',
    },
    {
      name: 'model_requests_per_lease_min_16',
      unit: '1/min',
      better: 'lower',
      from: 'model-check',
      baseline: null,
      reference: {
        value: FAILOVER_MEASURED_REQUESTS_PER_LEASE_MIN,
        source:
          'pnpm bench failover, ddb_requests_per_lease_min measured on dynalite (docs/benchmarks.md); the model must agree within 10 %',
      },
      description:
        "the failover benchmark's steps 1–2 on the model (worker mode, as that benchmark runs): lease-table requests but checkpoints per lease-minute",
    },
    {
      name: 'model_renewals_per_lease_min_16',
      unit: '1/min',
      better: 'lower',
      from: 'model-check',
      baseline: null,
      description: 'of which renewals (the rest: 26 scans a minute shared by 16 leases)',
    },
    {
      name: 'model_join_fair_share_s_16',
      unit: 's',
      better: 'lower',
      from: 'model-check',
      baseline: null,
      reference: {
        value: 13.26,
        source: 'pnpm bench failover, join_fair_share_ms measured on dynalite (docs/benchmarks.md)',
      },
      description: 'the failover sequence on the model: B starts → 8/8 of 16 leases',
    },
    {
      name: 'upkeep_core_pct_1000_leases',
      unit: '%',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      description:
        'one worker holding 1,000 leases at defaults, real SDK on dynalite: CPU of its process, % of one core',
    },
    {
      name: 'upkeep_rss_mib_1000_leases',
      unit: 'MiB',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      description: 'its resident set at the end of the window (under the tsx loader, about 100 MiB of it)',
    },
    {
      name: 'upkeep_peak_rss_mib_1000_leases',
      unit: 'MiB',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      description: 'its peak resident set over the whole run (creating the leases included)',
    },
    {
      name: 'upkeep_renewals_per_s_1000_leases',
      unit: '1/s',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      reference: { value: 1_000 / (10_000 / 3 / 1_000), source: '1,000 leases renewed every failover / 3' },
      description: 'renewals it sent per second (counted on its client)',
    },
    {
      name: 'upkeep_cpu_us_per_renewal',
      unit: 'us',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      description: 'its CPU per renewal sent (everything the process did, divided by the renewals)',
    },
    {
      name: 'upkeep_leases_lost',
      unit: 'count',
      better: 'lower',
      from: 'upkeep',
      baseline: null,
      reference: { max: 0, source: 'a healthy worker loses no lease' },
      description: 'leases it lost during the window (a renewal that came too late)',
    },
  ],
  notes: [
    "Model: the library's LeaseCoordinator and ShardSyncer per worker at their defaults (failover 10 s, renew every 3,308 ms, take rounds every 20,050 ms, shard sync every 60 s), every shard busy (a checkpoint every 5 s per held lease), requests of 5 ms, a table of 4 partitions (what a new on-demand table gets: 4,000 WCU / 12,000 RCU) with 3,000 RCU / 1,000 WCU per partition per second and no burst; consistent scans and gets as the adapter sends them. Units per lease-minute are lease upkeep (renewals, takes, scans, gets, hand-offs, releases); checkpoints apart.",
    "Headline figures are leader mode's (leaseAssignment: 'leader'): an elected worker lists the lease table every take round and assigns; the others Query the table's leaseOwner index (KEYS_ONLY, eventually consistent, changes visible 500 ms after the write; its own 4 partitions and ledger; each owner change writes the index: a delete and a put of 1 WCU each) and read each new lease; heartbeat and leader items in a coordinator table (its own 4 partitions and ledger). Upkeep units per lease-minute include the index and the coordinator table. worker_mode_* figures: every worker scans the table each take round (leaseAssignment: 'worker', the default).",
    'Cold start: an empty table, the workers start at random within 5 s (worker mode: each first syncs shards — lists the table and creates the missing leases — as Worker.start; leader mode: no sync at start, the elected leader syncs, as Worker.start). Crash: the last worker stops sending anything; the time runs until the others hold every lease at fair share. Leader mode then kills the leader the same way.',
    'Invariant: no lease held (isHeld) by two live workers at once, checked at every acquisition and every virtual second (double_holds, must be 0).',
    'Fair-share and rebalance times are capped at 300 s of simulated time: a figure of 300 means not reached (the goal is 120 s).',
    'A quick run is a smoke test: its "1,000 shards", "10k" and "1,000 leases" figures come from 100 shards × 2 / 20 workers and 50 leases held for 2 s.',
    'The model runs on virtual time with seeded randomness: its figures do not depend on the machine or its load (only how long it takes does). The upkeep figures do.',
  ],
});
