/**
 * Base class of every error thrown by `@shardline/kpl`.
 *
 * `retriable` says whether the same call may succeed if simply made again; no error of the codec is.
 */
export class ShardlineError extends Error {
  /** Whether trying the same call again may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** One problem found in options. */
export interface ConfigurationProblem {
  /** The option's path, e.g. `maxRecordBytes`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/** Options were wrong. Lists every problem found, not only the first. */
export class ConfigurationError extends ShardlineError {
  /** Every problem found. */
  readonly problems: readonly ConfigurationProblem[];

  constructor(problems: readonly ConfigurationProblem[], what = 'options') {
    super(
      `Invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}
