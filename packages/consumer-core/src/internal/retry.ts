// Retry and backoff are @shardline/common's (equal jitter by default, as consumer-core has always used).
export {
  type BackoffOptions,
  backoffDelayMs,
  isRetriableError,
  type RetryOptions,
  retry,
} from '@shardline/common';
