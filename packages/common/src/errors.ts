/** Options of a {@link ShardlineError}. */
export interface ShardlineErrorOptions {
  /** The error that caused this one. */
  readonly cause?: unknown;
  /** Whether trying the same call again may succeed. @defaultValue false */
  readonly retriable?: boolean;
  /** A short, stable code for programs to branch on. @defaultValue the class's name */
  readonly code?: string;
}

/**
 * The root of every error a Shardline package throws: each package's own errors extend it, so one
 * `instanceof ShardlineError` tells Shardline's errors from anything else.
 *
 * `retriable` says whether the same call may succeed if simply made again; `code` is a short, stable
 * string (the class's name unless a subclass gives a finer one, such as an AWS error name).
 *
 * @example
 * ```ts
 * class LeaseLostError extends ShardlineError {}
 * try { await work(); } catch (error) { if (error instanceof ShardlineError && error.retriable) retryLater(); }
 * ```
 */
export class ShardlineError extends Error {
  /** Whether trying the same call again may succeed. */
  readonly retriable: boolean;
  /** A short, stable code (the class's name unless the subclass sets another). */
  readonly code: string;

  constructor(message: string, options: ShardlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.code = options.code ?? new.target.name;
  }
}

/** One problem found in options. */
export interface ConfigurationProblem {
  /** The option's path, e.g. `failoverTimeMs` or `retry.deadlineMs`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/**
 * Options were wrong. Lists every problem found, not only the first. One class for every Shardline
 * package, so `instanceof ConfigurationError` holds whichever package threw it.
 */
export class ConfigurationError extends ShardlineError {
  /** Every problem found. */
  readonly problems: readonly ConfigurationProblem[];

  /**
   * @param problems - every problem found (at least one).
   * @param what - what was checked, for the message: `Invalid ${what} (n problems)`.
   */
  constructor(problems: readonly ConfigurationProblem[], what = 'options') {
    super(
      `Invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/** `name: message` of an `Error`, or the value as a string: for messages that quote a cause. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
