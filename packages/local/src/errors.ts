/**
 * Base class of every error thrown by `@shardline/local`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class LocalTwinError extends Error {
  /** Whether trying the same call again may succeed. */
  readonly retriable: boolean;

  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** One problem found in the options passed to {@link startLocalTwin}. */
export interface ConfigurationProblem {
  /** The option's path, e.g. `ports.kinesis`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
}

/** Options were wrong. Lists every problem found, not only the first. */
export class ConfigurationError extends LocalTwinError {
  /** Every problem found. */
  readonly problems: readonly ConfigurationProblem[];

  constructor(problems: readonly ConfigurationProblem[]) {
    super(
      `Invalid local twin options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.path}: ${p.message}`)
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/** A port asked for explicitly is already taken by another process. */
export class PortInUseError extends LocalTwinError {
  /** The service that wanted the port. */
  readonly service: string;
  /** The port. */
  readonly port: number;

  constructor(service: string, port: number, cause?: unknown) {
    super(
      `Port ${port} for ${service} is already in use on this machine: pick another port or pass 0 for a free one.`,
      {
        cause,
      },
    );
    this.service = service;
    this.port = port;
  }
}

/** A service exited, or never answered, while starting. */
export class ServiceStartError extends LocalTwinError {
  /** The service that failed. */
  readonly service: string;
  /** Its exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that ended it, when one did. */
  readonly signal: NodeJS.Signals | null;
  /** The last lines it wrote to stdout and stderr. */
  readonly outputTail: string;

  constructor(
    service: string,
    reason: string,
    details: {
      exitCode?: number | null;
      signal?: NodeJS.Signals | null;
      outputTail?: string;
      cause?: unknown;
    },
  ) {
    const tail = details.outputTail?.trim() ?? '';
    super(
      `${service} failed to start: ${reason}${tail ? `\n--- last output of ${service} ---\n${tail}` : ''}`,
      {
        cause: details.cause,
        retriable: true,
      },
    );
    this.service = service;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.outputTail = tail;
  }
}

/** A resource (stream, table) did not become ready in time. */
export class ResourceNotReadyError extends LocalTwinError {
  /** The resource's name. */
  readonly resource: string;

  constructor(resource: string, message: string, cause?: unknown) {
    super(message, { cause, retriable: true });
    this.resource = resource;
  }
}
