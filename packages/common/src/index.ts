// @shardline/common: the foundation every Shardline package builds on. Depends on no other package.

// AWS errors
export {
  type AwsErrorCodes,
  type AwsErrorShape,
  awsErrorCode,
  awsErrorName,
  hasAwsErrorName,
  httpStatusCode,
  isClientFault,
  isSdkThrottling,
  isTransientAwsError,
  NETWORK_ERROR_CODES,
} from './awsErrors.js';
// Retry and backoff
export { type BackoffOptions, backoffCeilingMs, backoffDelayMs, Jitter } from './backoff.js';
// Deadlines
export {
  type CommandSender,
  clientWithDeadline,
  DeadlineExceededError,
  withDeadline,
} from './deadline.js';
// Errors
export {
  ConfigurationError,
  type ConfigurationProblem,
  errorText,
  ShardlineError,
  type ShardlineErrorOptions,
} from './errors.js';
// Command-line arguments
export { integerArgument } from './integerArgument.js';
// Kinesis limits and validators
export {
  EXPLICIT_HASH_KEY_PATTERN,
  hasLoneSurrogate,
  isValidExplicitHashKey,
  MAX_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  MAX_PUT_RECORDS_BYTES,
  MAX_PUT_RECORDS_BYTES_LIMIT,
  MAX_PUT_RECORDS_RECORDS,
  MAX_RECORD_BYTES,
} from './kinesisLimits.js';
// Lifecycle
export { LifecycleState } from './LifecycleState.js';
export { onAbort } from './onAbort.js';
export { type IntegerRanges, ProblemList, type ProblemListOptions } from './ProblemList.js';
// SDK clients
export {
  HTTP_TIMEOUTS,
  type Http2HandlerSettings,
  type HttpHandlerSettings,
  type HttpTimeouts,
  http1RequestHandler,
  KINESIS_HTTP2_STREAM_IDLE_TIMEOUT_MS,
  KinesisHttpVersion,
  type KinesisRequestHandlerOptions,
  kinesisHttpVersion,
  kinesisRequestHandler,
  PROBE_HTTP_TIMEOUTS,
} from './requestHandler.js';
export { isRetriableError, type RetryOptions, retry } from './retry.js';
export { abortReason, isAbort, sleep, sleepUnlessAborted } from './sleep.js';
export { splitBatches } from './splitBatches.js';
