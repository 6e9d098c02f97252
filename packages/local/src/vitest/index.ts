import { afterAll, inject } from 'vitest';
import { LocalTwinClient } from '../LocalTwinClient.js';

/**
 * The run's local twin (kinesalite, dynalite, fauxqs), started by the global setup
 * `@shardline/local/vitest/globalSetup`. Call `close()` on it in `afterAll`.
 */
export function localTwinFromContext(): LocalTwinClient {
  return new LocalTwinClient(inject('shardline:local'));
}

/**
 * The run's local twin for one test file, closed after the file's tests (`afterAll`). Its `kinesis`,
 * `dynamodb` and `s3` clients are made on first use and destroyed then; the services keep running.
 *
 * @example
 * ```ts
 * const local = useLocalTwin();
 * const { kinesis, dynamodb } = local;
 * const stream = await local.createStream(uniqueName('orders'), { shardCount: 2 });
 * ```
 */
export function useLocalTwin(): LocalTwinClient {
  const twin = localTwinFromContext();
  afterAll(() => twin.close());
  return twin;
}

/** The run's kinesis-local for one test file, closed after the file's tests, like {@link useLocalTwin}. */
export function useFaithfulKinesis(): LocalTwinClient {
  const twin = faithfulKinesisFromContext();
  afterAll(() => twin.close());
  return twin;
}

/** The run's kinesis-local (resharding, `ChildShards`, stream ARNs, enhanced fan-out). */
export function faithfulKinesisFromContext(): LocalTwinClient {
  return new LocalTwinClient(inject('shardline:localFaithful'));
}

/** @deprecated Use {@link localTwinFromContext}; this alias goes in the next release. */
export const localStackFromContext = localTwinFromContext;
