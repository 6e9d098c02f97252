import type { LocalTwinClient, LocalTwinInfo } from '@shardline/local';
import type { PollingRetrievalOptions, RetrievalOptions } from '../../src/index.js';

/**
 * The retrieval modes the retrieval-sensitive integration tests run in (`describe.each`/`it.each`):
 * the same test body, the same independent ledgers, once per mode.
 */
export const RETRIEVAL_MODES = ['polling', 'fanOut'] as const;

/** One of {@link RETRIEVAL_MODES}. */
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

/**
 * The Kinesis a mode is tested on: kinesalite (fast) for polling, kinesis-local for fan-out (kinesalite
 * has no consumer APIs). kinesis-local pushes on a one-second poll and refuses a second open
 * subscription of a consumer on a shard (`ResourceInUseException`), so a hand-off or failover in fan-out
 * proves that the old owner's subscription was cancelled.
 */
export function kinesisFor(mode: RetrievalMode, local: LocalTwinClient, faithful: LocalTwinClient) {
  return mode === 'fanOut' ? faithful : local;
}

/** The twin's endpoints with Kinesis from `kinesis` (for worker processes: one `LocalTwinInfo`). */
export function withKinesisOf(info: LocalTwinInfo, kinesis: LocalTwinClient): LocalTwinInfo {
  return {
    ...info,
    endpoints: { ...info.endpoints, kinesis: kinesis.info.endpoints.kinesis },
    kinesisEngine: kinesis.info.kinesisEngine,
  };
}

/**
 * A mode's `retrieval` option for tests: polling with the given options, or fan-out through the
 * application's own registered consumer (the default name) with a short idle deadline.
 */
export function retrievalFor(mode: RetrievalMode, polling: PollingRetrievalOptions = {}): RetrievalOptions {
  return mode === 'fanOut' ? { fanOut: { subscriptionIdleTimeoutMs: 15_000 } } : { polling };
}
