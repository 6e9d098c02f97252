import { describe, expect, it, vi } from 'vitest';
import {
  backoffCeilingMs,
  backoffDelayMs,
  isAbort,
  Jitter,
  retry,
  ShardlineError,
  sleep,
  sleepUnlessAborted,
} from '../../src/index.js';

describe('backoffDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000 };

  it('grows exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 100, 5_000].map((n) => backoffCeilingMs(n, options))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
    expect(backoffCeilingMs(3, { ...options, multiplier: 3 })).toBe(900);
    expect(backoffCeilingMs(5_000, { initialDelayMs: 0, maxDelayMs: 10 })).toBe(0);
  });

  it('equal jitter (the default) stays within [ceiling/2, ceiling]', () => {
    expect(backoffDelayMs(1, options, () => 0)).toBe(50);
    expect(backoffDelayMs(1, options, () => 1)).toBe(100);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(300);
    expect(backoffDelayMs(10, { ...options, jitter: Jitter.Equal }, () => 0)).toBe(500);
  });

  it('full jitter spreads over [0, ceiling)', () => {
    const full = { ...options, jitter: Jitter.Full };
    expect(backoffDelayMs(1, full, () => 0)).toBe(0);
    expect(backoffDelayMs(1, full, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, full, () => 0.5)).toBe(200);
  });
});

describe('retry', () => {
  const retriable = () => new ShardlineError('try again', { retriable: true });
  const alwaysFailing = () => {
    const state = {
      calls: 0,
      call: () => {
        state.calls += 1;
        return Promise.reject(retriable());
      },
    };
    return state;
  };

  it('retries retriable errors until success', async () => {
    const delays: number[] = [];
    const operation = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw retriable();
      return attempt;
    });
    const result = await retry(operation, {
      maxAttempts: 5,
      initialDelayMs: 1,
      maxDelayMs: 2,
      onRetry: (_e, _a, delayMs) => delays.push(delayMs),
    });
    expect(result).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('rethrows a non-retriable error at once, and the last one after maxAttempts', async () => {
    const plain = new Error('no');
    await expect(
      retry(() => Promise.reject(plain), { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 1 }),
    ).rejects.toBe(plain);
    const failing = alwaysFailing();
    await expect(
      retry(failing.call, { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 }),
    ).rejects.toBeInstanceOf(ShardlineError);
    expect(failing.calls).toBe(3);
  });

  it('gives up when the next wait would pass the deadline', async () => {
    const failing = alwaysFailing();
    await expect(
      retry(failing.call, {
        maxAttempts: Number.POSITIVE_INFINITY,
        initialDelayMs: 100,
        maxDelayMs: 100,
        // Equal jitter waits 50–100 ms here (half the ceiling at least): every wait passes 49.
        deadlineAtMs: 49,
        now: () => 0,
      }),
    ).rejects.toBeInstanceOf(ShardlineError);
    expect(failing.calls).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const done = retry(() => Promise.reject(retriable()), {
      maxAttempts: 10,
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: controller.signal,
      onRetry: () => queueMicrotask(() => controller.abort(new Error('stop'))),
    });
    await expect(done).rejects.toThrow('stop');
  });
});

describe('sleep', () => {
  it('rejects with the abort reason, and sleepUnlessAborted resolves false', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    const unless = sleepUnlessAborted(60_000, controller.signal);
    controller.abort();
    await expect(slept).rejects.toSatisfy((e) => isAbort(e, controller.signal));
    expect(await unless).toBe(false);
    expect(await sleepUnlessAborted(1)).toBe(true);
  });
});
