/** Jittered exponential backoff: attempt 1 waits about `initialDelayMs`, doubling up to `maxDelayMs`. */
export function backoffDelayMs(
  attempt: number,
  settings: { readonly initialDelayMs: number; readonly maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** Math.min(30, attempt - 1));
  // "Equal jitter": never less than half the ceiling, so a storm of retries still spreads out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Waits `ms`; resolves `false` at once when `signal` aborts (before or during the wait). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
