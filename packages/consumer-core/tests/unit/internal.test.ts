import { getEventListeners } from 'node:events';
import { backoffDelayMs, retry, sleep } from '@shardline/common';
import { describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/index.js';

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
