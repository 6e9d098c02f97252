import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError, withDeadline } from '../../src/index.js';

describe('withDeadline', () => {
  it('withDeadline rejects a call that ignores its signal, and leaves no listener on a long-lived signal', async () => {
    const loop = new AbortController();
    for (let i = 0; i < 20; i++) await withDeadline('op', 100, async () => i, loop.signal);
    await expect(withDeadline('hung', 20, () => new Promise(() => {}), loop.signal)).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);
    const aborted = withDeadline('op', 10_000, () => new Promise(() => {}), loop.signal);
    loop.abort(new Error('stopping'));
    await expect(aborted).rejects.toThrow('stopping');
  });

  it('aborts the signal it gave the call, with the deadline error as the reason', async () => {
    let seen: AbortSignal | undefined;
    const call = withDeadline('GetRecords', 20, (signal) => {
      seen = signal;
      return new Promise(() => {});
    });
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({
      operation: 'GetRecords',
      timeoutMs: 20,
      retriable: true,
      code: 'DEADLINE_EXCEEDED',
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });
});
