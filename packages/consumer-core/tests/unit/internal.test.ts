import { getEventListeners } from 'node:events';
import { backoffDelayMs, retry, sleep } from '@shardline/common';
import { describe, expect, it } from 'vitest';
import { DependencyError } from '../../src/index.js';
import { OperationTimeoutError, withTimeout } from '../../src/internal/withTimeout.js';

describe('internal helpers', () => {
  it('withTimeout rejects a call that ignores its signal, and leaves no listener on a long-lived signal', async () => {
    const loop = new AbortController();
    for (let i = 0; i < 20; i++) await withTimeout('op', 100, async () => i, loop.signal);
    await expect(withTimeout('hung', 20, () => new Promise(() => {}), loop.signal)).rejects.toBeInstanceOf(
      OperationTimeoutError,
    );
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);
    const aborted = withTimeout('op', 10_000, () => new Promise(() => {}), loop.signal);
    loop.abort(new Error('stopping'));
    await expect(aborted).rejects.toThrow('stopping');
  });

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
