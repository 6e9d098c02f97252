import { describeCause } from '../transport/describeCause.js';
import type { SendResult, Transport } from '../transport/Transport.js';

/** Every request failed for the run's bound (`--max-failing-ms`): the replay stops with the cause. */
export class DestinationFailingError extends Error {
  /** The last failure, in words (`connection refused (127.0.0.1:4599)`, `throttled`...). */
  readonly lastCause: string;
  readonly failingMs: number;

  constructor(lastCause: string, failingMs: number) {
    super(`every request failed for ${Math.round(failingMs / 1000)} s: ${lastCause}`);
    this.lastCause = lastCause;
    this.failingMs = failingMs;
  }
}

/**
 * What the replay knows about its destination from the requests it sent: since when every request has
 * failed (none wrote a record), and why the last one failed. Read by the progress display and by the
 * bound on a failing run.
 */
export class DestinationHealth {
  readonly #now: () => number;
  #failingSinceMs: number | undefined;
  #cause: string | undefined;
  #lastFailureAtMs = Number.NEGATIVE_INFINITY;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The last failure's cause. */
  get cause(): string | undefined {
    return this.#cause;
  }

  /** A request was answered: records written end the failing streak; an answer without any is a failure. */
  answered(result: SendResult): void {
    const failed = result.outcomes.find((o) => !o.ok);
    if (result.outcomes.some((o) => o.ok)) this.#failingSinceMs = undefined;
    else this.#failingSinceMs ??= this.#now();
    if (failed !== undefined) {
      this.#cause = describeCause(failed);
      this.#lastFailureAtMs = this.#now();
    }
  }

  /** A request failed as a whole. */
  failed(error: unknown): void {
    this.#failingSinceMs ??= this.#now();
    this.#cause = describeCause(error);
    this.#lastFailureAtMs = this.#now();
  }

  /** How long every request has failed, or `undefined` when the last ones wrote records. */
  failingForMs(): number | undefined {
    return this.#failingSinceMs === undefined ? undefined : this.#now() - this.#failingSinceMs;
  }

  /** For the progress line: why records are being retried, while failures are recent. */
  waitingFor(withinMs = 10_000): string | undefined {
    if (this.#cause === undefined || this.#now() - this.#lastFailureAtMs > withinMs) return undefined;
    const failingMs = this.failingForMs();
    return failingMs === undefined
      ? this.#cause
      : `${this.#cause}, every request failing for ${Math.round(failingMs / 1000)}s`;
  }
}

/** The transport, reporting each request's outcome to `health`. */
export function watchTransport(transport: Transport, health: DestinationHealth): Transport {
  return {
    name: transport.name,
    limits: transport.limits,
    requestBytes: (record) => transport.requestBytes(record),
    send: async (records, signal) => {
      if (signal.aborted) return transport.send(records, signal);
      try {
        const result = await transport.send(records, signal);
        if (Array.isArray(result?.outcomes)) health.answered(result);
        return result;
      } catch (error) {
        if (!signal.aborted) health.failed(error);
        throw error;
      }
    },
    ...(transport.check === undefined ? {} : { check: (signal) => transport.check!(signal) }),
    ...(transport.close === undefined ? {} : { close: () => transport.close!() }),
  };
}
