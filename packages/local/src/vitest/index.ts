import { inject } from 'vitest';
import { LocalStackClient } from '../LocalStackClient.js';

/**
 * The run's local stack (kinesalite, dynalite, fauxqs), started by the global setup
 * `@shardline/local/vitest/globalSetup`. Call `close()` on it in `afterAll`.
 */
export function localStackFromContext(): LocalStackClient {
  return new LocalStackClient(inject('shardline:local'));
}

/** The run's kinesis-local (resharding, `ChildShards`, stream ARNs, enhanced fan-out). */
export function faithfulKinesisFromContext(): LocalStackClient {
  return new LocalStackClient(inject('shardline:localFaithful'));
}
