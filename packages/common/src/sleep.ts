import { onAbort } from './onAbort.js';

/** The reason an aborted wait rejects with: the signal's own reason, or a plain `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Resolves after `ms` milliseconds; rejects with the signal's reason as soon as `signal` aborts.
 * The timer is cleared on abort, so nothing keeps the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    // One shared listener per signal however many waits use it (a backoff per held lease).
    const unsubscribe = onAbort(signal, () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    });
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, ms);
  });
}

/** Like {@link sleep} but resolves `false` instead of rejecting when the signal aborts (`true` otherwise). */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}

/** Whether `error` is the result of an abort (an `AbortError`, or the reason of `signal`). */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && error === signal.reason) return true;
  return error instanceof Error && error.name === 'AbortError';
}
