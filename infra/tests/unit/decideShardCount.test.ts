import { describe, expect, it } from 'vitest';
import {
  decideShardCount,
  SHARD_SCALING_DEFAULTS,
  type ShardScalingPolicy,
  type StreamLoad,
} from '../../src/scaling/decideShardCount.js';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
const NOW = 1_800_000_000_000;
const policy: ShardScalingPolicy = { ...SHARD_SCALING_DEFAULTS, minShards: 4, maxShards: 64 };

function load(openShards: number, bytesPerSecond: number, more: Partial<StreamLoad> = {}): StreamLoad {
  return {
    openShards,
    peakIncomingBytesPerSecond: bytesPerSecond,
    peakIncomingRecordsPerSecond: 0,
    throttledWrites: 0,
    ...more,
  };
}

describe('decideShardCount', () => {
  it('keeps the count between the thresholds', () => {
    expect(decideShardCount(policy, load(4, 2 * MiB), [], NOW)).toMatchObject({
      action: 'none',
      targetShards: 4,
    });
  });

  it('scales up to the target utilization when the busiest minute passes 80 %', () => {
    // 3.6 MiB/s on 4 shards = 90 %; sized for 60 %: 6 shards.
    const d = decideShardCount(policy, load(4, 3.6 * MiB), [], NOW);
    expect(d).toMatchObject({ action: 'scale-up', targetShards: 6 });
  });

  it('sizes by records when records are the tighter limit', () => {
    const d = decideShardCount(policy, load(4, 0, { peakIncomingRecordsPerSecond: 3900 }), [], NOW);
    expect(d).toMatchObject({ action: 'scale-up', targetShards: 7 });
  });

  it('at most doubles per call, so a 5× push campaign takes several calls', () => {
    let shards = 4;
    const updates: number[] = [];
    const campaign = 5 * 2.4 * MiB; // 5× a load that used 60 % of 4 shards
    let t = NOW;
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Kinesis takes at most the capacity and throttles the rest.
      const capacity = shards * MiB;
      const observed = load(shards, Math.min(campaign, capacity), {
        throttledWrites: campaign > capacity ? 10 : 0,
      });
      const d = decideShardCount(policy, observed, updates, t);
      if (d.action === 'none') break;
      expect(d.targetShards).toBeLessThanOrEqual(shards * 2);
      shards = d.targetShards;
      counts.push(shards);
      updates.push(t);
      t += 10 * 60_000;
    }
    // 12 MiB/s: throttled on 4 and 8 shards; 16 shards carry it at 75 % (under the 80 % threshold).
    expect(counts).toEqual([8, 16]);
  });

  it('treats throttling as demand it cannot see: at least double', () => {
    const d = decideShardCount(policy, load(4, 1 * MiB, { throttledWrites: 3 }), [], NOW);
    expect(d).toMatchObject({ action: 'scale-up', targetShards: 8 });
  });

  it('never passes maxShards', () => {
    const d = decideShardCount({ ...policy, maxShards: 6 }, load(4, 4 * MiB), [], NOW);
    expect(d).toMatchObject({ action: 'scale-up', targetShards: 6 });
    expect(decideShardCount({ ...policy, maxShards: 6 }, load(6, 6 * MiB), [], NOW).action).toBe('none');
  });

  it('respects the daily budget of UpdateShardCount calls', () => {
    const updates = [NOW - 5 * HOUR, NOW - 4 * HOUR, NOW - 3 * HOUR, NOW - 2 * HOUR];
    expect(decideShardCount(policy, load(8, 8 * MiB), updates, NOW).action).toBe('none');
    // Calls older than 24 hours no longer count.
    const old = updates.map((t) => t - 24 * HOUR);
    expect(decideShardCount(policy, load(8, 8 * MiB), old, NOW).action).toBe('scale-up');
  });

  it('scales back at most by half once load has passed and the cool-down is over', () => {
    const d = decideShardCount(policy, load(32, 1 * MiB), [NOW - 2 * HOUR], NOW);
    expect(d).toMatchObject({ action: 'scale-down', targetShards: 16 });
    expect(decideShardCount(policy, load(32, 1 * MiB), [NOW - 10 * 60_000], NOW).action).toBe('none');
  });

  it('never scales below minShards', () => {
    const d = decideShardCount(policy, load(6, 0), [], NOW);
    expect(d).toMatchObject({ action: 'scale-down', targetShards: 4 });
    expect(decideShardCount(policy, load(4, 0), [], NOW).action).toBe('none');
  });

  it('keeps the last call of the day for a surge: no scale-down with one call left', () => {
    const updates = [NOW - 5 * HOUR, NOW - 4 * HOUR, NOW - 3 * HOUR];
    expect(decideShardCount(policy, load(32, 0), updates, NOW).action).toBe('none');
    expect(decideShardCount(policy, load(32, 30 * MiB), updates, NOW).action).toBe('scale-up');
  });

  it('brings a stream outside [minShards, maxShards] back inside, within the per-call limits', () => {
    expect(decideShardCount(policy, load(1, 0), [], NOW)).toMatchObject({
      action: 'scale-up',
      targetShards: 2,
    });
    expect(decideShardCount(policy, load(200, 0), [], NOW)).toMatchObject({
      action: 'scale-down',
      targetShards: 100,
    });
  });
});
