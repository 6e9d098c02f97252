import { inject } from 'vitest';
import { LocalTwinClient } from '../LocalTwinClient.js';

/**
 * The run's local twin (kinesalite, dynalite, fauxqs), started by the global setup
 * `@shardline/local/vitest/globalSetup`. Call `close()` on it in `afterAll`.
 */
export function localTwinFromContext(): LocalTwinClient {
  return new LocalTwinClient(inject('shardline:local'));
}

/** The run's kinesis-local (resharding, `ChildShards`, stream ARNs, enhanced fan-out). */
export function faithfulKinesisFromContext(): LocalTwinClient {
  return new LocalTwinClient(inject('shardline:localFaithful'));
}

/** @deprecated Use {@link localTwinFromContext}; this alias goes in the next release. */
export const localStackFromContext = localTwinFromContext;
