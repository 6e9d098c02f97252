import { ShardlineError } from './errors.js';
import { onAbort } from './onAbort.js';

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
 * Concurrent calls on one long-lived `signal` (a loop's, a lease's) share one `abort` listener on it,
 * removed with the last call (see {@link onAbort}), so the signal never collects a listener per call.
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
  let unsubscribe: (() => void) | undefined;
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
        const stop = () => {
          controller.abort(signal?.reason);
          reject(signal?.reason);
        };
        unsubscribe = onAbort(signal, stop);
        // Aborted while `run` was starting: no listener fires for a signal already aborted.
        if (signal?.aborted) stop();
      }),
    ]);
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
  }
}

/** The part of an AWS SDK v3 client that {@link clientWithDeadline} wraps: `send(command, options)`. */
export interface CommandSender {
  /** Sends `command`; `options.abortSignal` aborts it. */
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's overloaded `send` of any client fits this shape.
  send(command: any, options?: any): Promise<any>;
}

/**
 * The same client, with a deadline on every `send`: each call gets a signal of its own that aborts
 * after `timeoutMs` (or when the caller's `abortSignal` aborts), and rejects with a retriable
 * {@link DeadlineExceededError} named after the command (`GetRecords`, `UpdateItem`...) at that
 * moment, whatever the client's request handler does. The deadline covers the whole call, the SDK's
 * own retries included, and a response body that trickles in after its headers.
 *
 * Only `send` is wrapped: the client itself is neither copied nor destroyed.
 *
 * @example
 * ```ts
 * const kinesis = clientWithDeadline(new KinesisClient({}), 10_000);
 * await kinesis.send(new GetRecordsCommand({ ShardIterator }), { abortSignal: loopSignal });
 * ```
 */
export function clientWithDeadline<C extends CommandSender>(client: C, timeoutMs: number): Pick<C, 'send'> {
  const send: CommandSender['send'] = (command, options) => {
    const { abortSignal, ...rest } = (options ?? {}) as { abortSignal?: AbortSignal };
    return withDeadline(
      commandName(command),
      timeoutMs,
      (signal) => client.send(command, { ...rest, abortSignal: signal }),
      abortSignal,
    );
  };
  return { send } as Pick<C, 'send'>;
}

/** `GetRecords` for a `GetRecordsCommand`. */
function commandName(command: unknown): string {
  const name = (command as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name.length > 0 ? name.replace(/Command$/, '') : 'AWS call';
}
