import { ShardlineError } from '@shardline/common';

// The root and configuration errors are @shardline/common's, shared by every Shardline package (one class,
// so `instanceof ConfigurationError` holds whichever package threw it).
export { ConfigurationError, type ConfigurationProblem, ShardlineError } from '@shardline/common';

/**
 * Base class of every error thrown by `@shardline/infra`.
 *
 * `retriable` says whether the same call may succeed if simply made again.
 */
export class InfraError extends ShardlineError {}
