import { ShardlineError } from './errors.js';

/**
 * A call did not answer within its deadline (retriable). The call was aborted through its signal and
 * the caller stopped waiting for it at that moment.
 */
export class DeadlineExceededError extends ShardlineError {
  /** The operation, e.g. `GetRecords` or `PutObject`. */
  readonly operation: string;
  /** The deadline it missed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} did not answer within ${timeoutMs} ms`, {
      retriable: true,
      code: 'DEADLINE_EXCEEDED',
    });
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs `run` with a signal that aborts after `timeoutMs` (or when `signal` aborts), and rejects at that
 * moment even if the call ignores its signal.
 *
 * This is Shardline's deadline for every AWS call: the SDK's `requestTimeout` counts socket inactivity
 * only (and with `@smithy/node-http-handler` it only logs unless `throwOnRequestTimeout` is set), so a
 * server that accepts and never answers, or a body that trickles in a byte at a time, is never cut off
 * by the handler. Pass the signal to `client.send(command, { abortSignal })`: the SDK then destroys the
 * socket, and the caller is free at the deadline either way.
 *
 * The listener on `signal` is removed after each call, so a long-lived loop signal does not collect
 * one per call.
 *
 * @example
 * ```ts
 * const out = await withDeadline('GetRecords', 10_000, (abortSignal) =>
 *   kinesis.send(new GetRecordsCommand({ ShardIterator }), { abortSignal }), loopSignal);
 * ```
 * @throws {@link DeadlineExceededError} when the deadline passes; `signal.reason` when `signal` aborts.
 */
export async function withDeadline<T>(
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
            const error = new DeadlineExceededError(operation, timeoutMs);
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
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
