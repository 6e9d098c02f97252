import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { clientWithDeadline, DeadlineExceededError, onAbort, sleep, withDeadline } from '../../src/index.js';

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

describe('one long-lived signal shared by many concurrent calls', () => {
  it('carries one abort listener however many deadlines and waits run on it at once, and none after', async () => {
    // The lease renewer renews every held lease at once on its loop's signal: 16 leases were 16
    // listeners, and Node warned (MaxListenersExceededWarning) past 10.
    const loop = new AbortController();
    const releases: (() => void)[] = [];
    const calls = Array.from({ length: 50 }, (_, i) =>
      withDeadline(
        'renew',
        10_000,
        () =>
          new Promise<number>((resolve) => {
            releases.push(() => resolve(i));
          }),
        loop.signal,
      ),
    );
    const waits = Array.from({ length: 50 }, () => sleep(5, loop.signal));
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(1);
    for (const release of releases) release();
    await Promise.all([...calls, ...waits]);
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);

    // Still every call hears the abort.
    const hung = Array.from({ length: 20 }, () =>
      withDeadline('renew', 10_000, () => new Promise(() => {}), loop.signal),
    );
    const sleeping = Array.from({ length: 20 }, () => sleep(10_000, loop.signal));
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stopping');
    loop.abort(reason);
    const results = await Promise.allSettled([...hung, ...sleeping]);
    expect(results.every((r) => r.status === 'rejected' && r.reason === reason)).toBe(true);
  });

  it('onAbort unsubscribes idempotently and calls nothing for an already aborted signal', () => {
    const controller = new AbortController();
    let calls = 0;
    const first = onAbort(controller.signal, () => calls++);
    const second = onAbort(controller.signal, () => calls++);
    first();
    first();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(calls).toBe(1);
    second();
    expect(onAbort(controller.signal, () => calls++)).toBeTypeOf('function');
    expect(calls).toBe(1);
  });
});

describe('clientWithDeadline', () => {
  class GetRecordsCommand {
    constructor(readonly input: object) {}
  }
  it('gives each send a signal of its own and rejects a hung call with the command name', async () => {
    const seen: { signal: AbortSignal; other: unknown }[] = [];
    const client = {
      send: (_command: unknown, options?: { abortSignal?: AbortSignal; other?: unknown }) => {
        seen.push({ signal: options!.abortSignal!, other: options?.other });
        return new Promise(() => {});
      },
      destroy: () => {},
    };
    const wrapped = clientWithDeadline(client, 20);
    const loop = new AbortController();
    const error = await wrapped
      .send(new GetRecordsCommand({}), { abortSignal: loop.signal, other: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ operation: 'GetRecords', timeoutMs: 20, retriable: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.signal).not.toBe(loop.signal);
    expect(seen[0]!.signal.aborted).toBe(true);
    expect(seen[0]!.other).toBe(1);
    expect(getEventListeners(loop.signal, 'abort')).toHaveLength(0);
  });

  it("passes the answer through and follows the caller's signal", async () => {
    const wrapped = clientWithDeadline(
      { send: async (command: GetRecordsCommand) => ({ echoed: command.input }) },
      1_000,
    );
    await expect(wrapped.send(new GetRecordsCommand({ a: 1 }))).resolves.toEqual({ echoed: { a: 1 } });
    const hung = clientWithDeadline(
      { send: (_command: unknown, _options?: object) => new Promise(() => {}) },
      10_000,
    );
    const controller = new AbortController();
    const call = hung.send(new GetRecordsCommand({}), { abortSignal: controller.signal });
    controller.abort(new Error('lease lost'));
    await expect(call).rejects.toThrow('lease lost');
  });
});

describe('withDeadline and a signal aborted while the call starts', () => {
  it('rejects at once with the reason instead of waiting for the deadline', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    const startedAtMs = performance.now();
    const call = withDeadline(
      'op',
      10_000,
      () => {
        controller.abort(reason);
        return new Promise(() => {});
      },
      controller.signal,
    );
    await expect(call).rejects.toBe(reason);
    expect(performance.now() - startedAtMs).toBeLessThan(1_000);
  });
});
