import { ShardlineError } from '../errors.js';

/** A call did not answer in time (retriable). */
export class OperationTimeoutError extends ShardlineError {
  constructor(operation: string, timeoutMs: number) {
    super(`${operation} did not answer within ${timeoutMs} ms`, { retriable: true });
  }
}

/**
 * Runs `operation` with a signal that aborts after `timeoutMs` (or when `signal` aborts), and rejects
 * at that moment even if the operation ignores its signal: a hung request must never hold a lease's
 * lock past the point where the lease could be taken by another worker.
 */
export async function withTimeout<T>(
  operation: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) throw signal.reason;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      run(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            const error = new OperationTimeoutError(operation, timeoutMs);
            controller.abort(error);
            reject(error);
          },
          Math.max(1, timeoutMs),
        );
        onAbort = () => {
          controller.abort(signal?.reason);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    // One listener per call, always removed: long-lived loop signals must not accumulate them.
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
