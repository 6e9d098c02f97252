/** Kinesis write capacity of one shard: 1 MiB/s or 1,000 records/s. */
export const SHARD_WRITE_CAPACITY = Object.freeze({ bytesPerSecond: 1024 * 1024, recordsPerSecond: 1000 });

/**
 * `UpdateShardCount`'s own limits: at most 10 calls per rolling 24 hours per stream, at most double the
 * open shards per call, at least half of them.
 */
export const UPDATE_SHARD_COUNT_LIMITS = Object.freeze({
  maxCallsPer24Hours: 10,
  maxScaleUpFactor: 2,
  maxScaleDownFactor: 2,
});

/** How the scaler sizes a provisioned stream (see {@link SHARD_SCALING_DEFAULTS}). */
export interface ShardScalingPolicy {
  /** Never fewer shards. */
  readonly minShards: number;
  /** Never more shards (your account's shard quota minus other streams). */
  readonly maxShards: number;
  /** `UpdateShardCount` calls allowed per rolling 24 hours (AWS allows 10). */
  readonly maxUpdatesPerDay: number;
  /** Scale up when the busiest minute used more than this share of the write capacity (0–1). */
  readonly scaleUpUtilization: number;
  /** Scale down when every minute of the window used less than this share (0–1). */
  readonly scaleDownUtilization: number;
  /** The share of capacity a new shard count is sized for (0–1). */
  readonly targetUtilization: number;
  /** No scale-down sooner than this after any update (load that just passed may come back). */
  readonly scaleDownCooldownMs: number;
}

/** The default policy: sized for 60 % use, up at 80 %, down under 25 %, 4 calls a day, 1 h cool-down. */
export const SHARD_SCALING_DEFAULTS: Omit<ShardScalingPolicy, 'minShards' | 'maxShards'> = Object.freeze({
  maxUpdatesPerDay: 4,
  scaleUpUtilization: 0.8,
  scaleDownUtilization: 0.25,
  targetUtilization: 0.6,
  scaleDownCooldownMs: 60 * 60 * 1000,
});

/** The write load of the stream over the observation window (e.g. the last 15 one-minute periods). */
export interface StreamLoad {
  /** Open shards now (`DescribeStreamSummary.OpenShardCount`). */
  readonly openShards: number;
  /** Incoming bytes per second of the busiest minute of the window. */
  readonly peakIncomingBytesPerSecond: number;
  /** Incoming records per second of the busiest minute of the window. */
  readonly peakIncomingRecordsPerSecond: number;
  /** Write requests rejected for throughput (`WriteProvisionedThroughputExceeded`) in the window. */
  readonly throttledWrites: number;
}

/** What the scaler decided. */
export interface ShardCountDecision {
  readonly action: 'none' | 'scale-up' | 'scale-down';
  /** The shard count to ask for (the current count when `action` is `none`). */
  readonly targetShards: number;
  /** Why, in a sentence (logged). */
  readonly reason: string;
}

function shardsFor(load: StreamLoad, utilization: number): number {
  const byBytes = load.peakIncomingBytesPerSecond / (SHARD_WRITE_CAPACITY.bytesPerSecond * utilization);
  const byRecords = load.peakIncomingRecordsPerSecond / (SHARD_WRITE_CAPACITY.recordsPerSecond * utilization);
  return Math.max(1, Math.ceil(Math.max(byBytes, byRecords)));
}

/**
 * Decides the next shard count of a provisioned stream. Pure: no clock, no I/O.
 *
 * - Up when the busiest minute passed `scaleUpUtilization` or writes were throttled (throttled writes
 *   are not counted in the incoming metrics, so the true demand is higher: ask for at least double).
 *   One call may at most double the shards (`UpdateShardCount`), so a 5× push campaign takes a few calls.
 * - Down when every minute stayed under `scaleDownUtilization`, nothing was throttled, the last update
 *   is older than the cool-down, and the day's budget keeps one call in reserve for the next surge; at
 *   most halving.
 * - Never outside `[minShards, maxShards]`, never more than `maxUpdatesPerDay` calls in 24 hours.
 *
 * @param updatesAtMs - times of this stream's `UpdateShardCount` calls (older ones are ignored).
 */
export function decideShardCount(
  policy: ShardScalingPolicy,
  load: StreamLoad,
  updatesAtMs: readonly number[],
  nowMs: number,
): ShardCountDecision {
  const current = load.openShards;
  const dayAgo = nowMs - 24 * 60 * 60 * 1000;
  const recent = updatesAtMs.filter((t) => t > dayAgo);
  const callsLeft =
    Math.min(policy.maxUpdatesPerDay, UPDATE_SHARD_COUNT_LIMITS.maxCallsPer24Hours) - recent.length;
  const lastUpdateMs = recent.length > 0 ? Math.max(...recent) : Number.NEGATIVE_INFINITY;
  const capacityBytes = current * SHARD_WRITE_CAPACITY.bytesPerSecond;
  const capacityRecords = current * SHARD_WRITE_CAPACITY.recordsPerSecond;
  const utilization = Math.max(
    load.peakIncomingBytesPerSecond / capacityBytes,
    load.peakIncomingRecordsPerSecond / capacityRecords,
  );
  const percent = `${Math.round(utilization * 100)} %`;
  const none = (reason: string): ShardCountDecision => ({ action: 'none', targetShards: current, reason });

  if (current < policy.minShards || current > policy.maxShards) {
    const wanted = Math.min(Math.max(current, policy.minShards), policy.maxShards);
    const target =
      wanted > current
        ? Math.min(wanted, current * UPDATE_SHARD_COUNT_LIMITS.maxScaleUpFactor)
        : Math.max(wanted, Math.ceil(current / UPDATE_SHARD_COUNT_LIMITS.maxScaleDownFactor));
    if (callsLeft <= 0) return none(`${current} shards is outside the policy, but no update is left today`);
    return {
      action: target > current ? 'scale-up' : 'scale-down',
      targetShards: target,
      reason: `${current} shards is outside [${policy.minShards}, ${policy.maxShards}]`,
    };
  }

  const isThrottled = load.throttledWrites > 0;
  if (isThrottled || utilization > policy.scaleUpUtilization) {
    let wanted = shardsFor(load, policy.targetUtilization);
    if (isThrottled) wanted = Math.max(wanted, current * 2);
    const target = Math.min(wanted, current * UPDATE_SHARD_COUNT_LIMITS.maxScaleUpFactor, policy.maxShards);
    if (target <= current)
      return none(`at ${percent} of capacity but already at maxShards ${policy.maxShards}`);
    if (callsLeft <= 0) return none(`at ${percent} of capacity but no update is left today`);
    return {
      action: 'scale-up',
      targetShards: target,
      reason: isThrottled
        ? `${load.throttledWrites} writes throttled at ${percent} of capacity`
        : `at ${percent} of capacity (over ${Math.round(policy.scaleUpUtilization * 100)} %)`,
    };
  }

  if (utilization < policy.scaleDownUtilization) {
    const wanted = shardsFor(load, policy.targetUtilization);
    const target = Math.max(
      wanted,
      Math.ceil(current / UPDATE_SHARD_COUNT_LIMITS.maxScaleDownFactor),
      policy.minShards,
    );
    if (target >= current) return none(`at ${percent} of capacity, already at the smallest useful count`);
    if (nowMs - lastUpdateMs < policy.scaleDownCooldownMs)
      return none(`at ${percent}, but the last update is too recent`);
    // Keep one call for the next surge: a scale-down must never use the last update of the day.
    if (callsLeft <= 1) return none(`at ${percent}, but the last update of the day is kept for scaling up`);
    return {
      action: 'scale-down',
      targetShards: target,
      reason: `at ${percent} of capacity since the last check`,
    };
  }
  return none(`at ${percent} of capacity`);
}
