import type { ConsumerState } from '../events.js';

// Pure decisions of the health endpoints: a snapshot of what the worker knows → status and JSON body.
// Every time in a snapshot is a duration on this process's monotonic clock (never a wall-clock
// timestamp compared across machines).

/** What `/healthz` and `/readyz` judge: one worker's state at one moment. */
export interface HealthSnapshot {
  /** This worker's id in the lease table. */
  readonly workerId: string;
  /** The consumer's lifecycle state. */
  readonly state: ConsumerState;
  /** Event-loop delay over the last 10 s (a 100 ms timer's lateness), in milliseconds. */
  readonly eventLoop: {
    /** 99th percentile of the measured delay (0 when nothing was measured yet). */
    readonly delayP99Ms: number;
    /** Largest measured delay. */
    readonly maxDelayMs: number;
  };
  /** The lease renewer's record. */
  readonly leaseRenewal: {
    /** Leases held now. */
    readonly heldLeaseCount: number;
    /** Time since the last successful renewal, or `undefined` before the first one. */
    readonly lastRenewalAgoMs: number | undefined;
    /**
     * Time since renewals started failing (the first failed attempt after the last success), or
     * `undefined` when the last attempt succeeded.
     */
    readonly failingForMs: number | undefined;
  };
  /** Every shard this worker is processing now. */
  readonly shards: readonly ShardProgress[];
}

/** One shard's processing progress, as its worker sees it. */
export interface ShardProgress {
  /** The shard (lease key). */
  readonly shardId: string;
  /** Batches read and not yet handled (checkpointed or released). */
  readonly bufferedBatchCount: number;
  /** `millisBehindLatest` of the last batch read, or `undefined` before the first one. */
  readonly millisBehindLatest: number | undefined;
  /** Time since a batch of this shard was last handled (or since the session started). */
  readonly sinceProgressMs: number;
  /**
   * Sessions of this shard that failed on this worker in a row without a batch handled (the poison
   * policy: `fail()`, a batch out of retries); `sinceProgressMs` then counts from before the first.
   */
  readonly failedSessions: number;
}

/** The thresholds of the health checks (see `HealthCheckOptions`). */
export interface HealthThresholds {
  /** `/healthz` fails when the event loop's p99 delay is above this. */
  readonly maxEventLoopDelayMs: number;
  /** `/healthz` fails when renewals have been failing for longer than this. */
  readonly maxRenewalFailureMs: number;
  /** A shard behind and without progress for longer than this is stalled (`/readyz` only). */
  readonly stalledShardMs: number;
}

/** One check's verdict, with the figures it was judged on. */
export interface HealthCheckResult {
  /** Whether the check passed. */
  readonly ok: boolean;
  /** Why it failed (absent when it passed). */
  readonly reason?: string;
  /** Figures the verdict was made on. */
  readonly [detail: string]: unknown;
}

/** A stalled shard, as listed by `/readyz`. */
export interface StalledShard extends ShardProgress {
  /** How long the shard has been without progress (`sinceProgressMs`). */
  readonly stalledForMs: number;
}

/** An endpoint's answer: HTTP status and JSON body. */
export interface HealthReport {
  /** 200 when every check passed, 503 otherwise. */
  readonly statusCode: 200 | 503;
  /** The JSON body. */
  readonly body: {
    readonly status: 'ok' | 'failing';
    readonly workerId: string;
    readonly checks: Readonly<Record<string, HealthCheckResult>>;
  };
}

/**
 * Whether a shard is stalled: behind — records read and not handled, now or by a session that failed
 * here — and no batch handled for longer than `stalledShardMs`. A quiet shard (nothing read, nothing waiting) is never stalled however long it
 * stays quiet. (`millisBehindLatest` is reported with it, not judged: readers yield no empty reads, so
 * the value of the last batch read goes stale on a quiet shard.)
 */
export function isShardStalled(shard: ShardProgress, stalledShardMs: number): boolean {
  const isBehind = shard.bufferedBatchCount > 0 || shard.failedSessions > 0;
  return isBehind && shard.sinceProgressMs > stalledShardMs;
}

function livenessChecks(
  snapshot: HealthSnapshot,
  thresholds: HealthThresholds,
): Record<string, HealthCheckResult> {
  const { eventLoop, leaseRenewal } = snapshot;
  const isLoopOk = eventLoop.delayP99Ms <= thresholds.maxEventLoopDelayMs;
  const isRenewalOk =
    leaseRenewal.failingForMs === undefined || leaseRenewal.failingForMs <= thresholds.maxRenewalFailureMs;
  return {
    eventLoop: {
      ok: isLoopOk,
      ...(isLoopOk
        ? {}
        : {
            reason: `event-loop delay p99 ${eventLoop.delayP99Ms} ms is above ${thresholds.maxEventLoopDelayMs} ms`,
          }),
      delayP99Ms: eventLoop.delayP99Ms,
      maxDelayMs: eventLoop.maxDelayMs,
      maxEventLoopDelayMs: thresholds.maxEventLoopDelayMs,
    },
    leaseRenewal: {
      ok: isRenewalOk,
      ...(isRenewalOk
        ? {}
        : {
            reason: `lease renewals have been failing for ${leaseRenewal.failingForMs} ms (more than ${thresholds.maxRenewalFailureMs} ms)`,
          }),
      heldLeaseCount: leaseRenewal.heldLeaseCount,
      lastRenewalAgoMs: leaseRenewal.lastRenewalAgoMs ?? null,
      failingForMs: leaseRenewal.failingForMs ?? null,
      maxRenewalFailureMs: thresholds.maxRenewalFailureMs,
    },
  };
}

function report(workerId: string, checks: Record<string, HealthCheckResult>): HealthReport {
  const ok = Object.values(checks).every((check) => check.ok);
  return { statusCode: ok ? 200 : 503, body: { status: ok ? 'ok' : 'failing', workerId, checks } };
}

/**
 * `/healthz`: whether this process works — its event loop answers in time and its lease renewals
 * succeed. It never looks at shard progress: a stalled shard (a poison record, a slow destination) is
 * not cured by restarting the process, and a liveness probe that failed on it would restart the whole
 * fleet, one task after another, over one record.
 */
export function evaluateLiveness(snapshot: HealthSnapshot, thresholds: HealthThresholds): HealthReport {
  return report(snapshot.workerId, livenessChecks(snapshot, thresholds));
}

/**
 * `/readyz`: the liveness checks, plus the consumer's state (`running`: started and not stopping) and
 * its shards' progress — a shard behind and without progress for `stalledShardMs` is listed in
 * `checks.shards.stalled` and makes the answer 503.
 */
export function evaluateReadiness(snapshot: HealthSnapshot, thresholds: HealthThresholds): HealthReport {
  const isRunning = snapshot.state === 'running';
  const stalled: StalledShard[] = snapshot.shards
    .filter((shard) => isShardStalled(shard, thresholds.stalledShardMs))
    .map((shard) => ({ ...shard, stalledForMs: shard.sinceProgressMs }))
    .sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0));
  return report(snapshot.workerId, {
    ...livenessChecks(snapshot, thresholds),
    state: {
      ok: isRunning,
      ...(isRunning ? {} : { reason: `the consumer is ${snapshot.state}, not running` }),
      state: snapshot.state,
    },
    shards: {
      ok: stalled.length === 0,
      ...(stalled.length === 0
        ? {}
        : {
            reason: `${stalled.length} shard(s) behind and without progress for more than ${thresholds.stalledShardMs} ms`,
          }),
      activeShardCount: snapshot.shards.length,
      stalledShardMs: thresholds.stalledShardMs,
      stalled,
    },
  });
}
