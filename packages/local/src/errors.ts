import { ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/**
 * Base class of every error thrown by `@shardline/local`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class LocalTwinError extends ShardlineError {}

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
