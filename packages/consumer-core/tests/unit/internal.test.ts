import { getEventListeners } from 'node:events';
import { backoffDelayMs, retry, sleep } from '@shardline/common';
import { describe, expect, it, vi } from 'vitest';
import { DependencyError } from '../../src/index.js';
import { Loop } from '../../src/internal/Loop.js';

describe('internal helpers', () => {
  it('sleep is abortable and cleans up', async () => {
    const controller = new AbortController();
    await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('bye'));
    await expect(pending).rejects.toThrow('bye');
  });

  it('backoff grows, is capped, and is jittered within [cap/2, cap]', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(1, options, () => 0)).toBe(50);
    expect(backoffDelayMs(1, options, () => 1)).toBe(100);
    expect(backoffDelayMs(3, options, () => 1)).toBe(400);
    expect(backoffDelayMs(10, options, () => 1)).toBe(1_000);
    expect(backoffDelayMs(10, options, () => 0)).toBe(500);
  });

  it('retry retries retriable errors only, up to maxAttempts', async () => {
    let calls = 0;
    const transient = new DependencyError('kinesis', 'GetRecords', new Error('x'), true);
    await expect(
      retry(
        async () => {
          calls += 1;
          throw transient;
        },
        { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toBe(transient);
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new DependencyError('kinesis', 'GetRecords', new Error('x'), false);
        },
        { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
      ),
    ).rejects.toBeInstanceOf(DependencyError);
    expect(calls).toBe(1);
  });
});

describe('Loop timing', () => {
  /** Start times of the first five runs of a body that takes 60 ms, every 100 ms, on fake timers. */
  async function startsOf(fixedRate: boolean): Promise<number[]> {
    vi.useFakeTimers();
    try {
      const starts: number[] = [];
      const loop = new Loop(
        100,
        async () => {
          starts.push(Date.now());
          await new Promise((resolve) => setTimeout(resolve, 60));
        },
        () => {},
        { fixedRate, now: () => Date.now() },
      );
      const origin = Date.now();
      loop.start(false);
      await vi.advanceTimersByTimeAsync(700);
      const stopped = loop.stop();
      await vi.advanceTimersByTimeAsync(100);
      await stopped;
      return starts.slice(0, 5).map((t) => t - origin);
    } finally {
      vi.useRealTimers();
    }
  }

  it('by default waits the interval after each run ends', async () => {
    expect(await startsOf(false)).toEqual([0, 160, 320, 480, 640]);
  });

  it('at a fixed rate starts every interval, whatever the run took (the lease renewer)', async () => {
    expect(await startsOf(true)).toEqual([0, 100, 200, 300, 400]);
  });
});
