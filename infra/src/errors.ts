/**
 * Base class of every error thrown by `@shardline/infra`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class InfraError extends Error {
  /** Whether trying the same call again may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** One problem found in a construct's props. */
export interface ConfigurationProblem {
  /** The prop's path, e.g. `consumers.0.desiredCount`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/** Props were wrong (thrown at synth, before anything is deployed). Lists every problem found. */
export class ConfigurationError extends InfraError {
  /** The construct whose props were wrong, e.g. `IngestApi`. */
  readonly construct: string;
  /** Every problem found. */
  readonly problems: readonly ConfigurationProblem[];

  constructor(construct: string, problems: readonly ConfigurationProblem[]) {
    super(
      `Invalid ${construct} props (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.construct = construct;
    this.problems = problems;
  }
}
