import { LifecycleState } from '@shardline/common';
import type { ExtendedSequenceNumber } from './checkpoint/ExtendedSequenceNumber.js';
import type { LeaseDeletionReason } from './leases/leaseCleanup.js';

/** Kinds of {@link ConsumerEvent}. */
export const ConsumerEventType = {
  LeaseCreated: 'LEASE_CREATED',
  LeaseTaken: 'LEASE_TAKEN',
  LeaseLost: 'LEASE_LOST',
  LeaseReleased: 'LEASE_RELEASED',
  LeaseDeleted: 'LEASE_DELETED',
  LeaseHandoffRequested: 'LEASE_HANDOFF_REQUESTED',
  LeaseHandoffStarted: 'LEASE_HANDOFF_STARTED',
  LeaseHandedOff: 'LEASE_HANDED_OFF',
  DuplicateWorkerId: 'DUPLICATE_WORKER_ID',
  ShardStarted: 'SHARD_STARTED',
  ShardEnded: 'SHARD_ENDED',
  ShardFailed: 'SHARD_FAILED',
  ShardHalted: 'SHARD_HALTED',
  CheckpointWritten: 'CHECKPOINT_WRITTEN',
  CheckpointFailed: 'CHECKPOINT_FAILED',
  BatchProcessed: 'BATCH_PROCESSED',
  RecordsTrimmed: 'RECORDS_TRIMMED',
  RecordOutsideShardRange: 'RECORD_OUTSIDE_SHARD_RANGE',
  BatchDeadLettered: 'BATCH_DEAD_LETTERED',
  Retry: 'RETRY',
  Subscribed: 'SUBSCRIBED',
  Error: 'ERROR',
  StateChanged: 'STATE_CHANGED',
} as const;
/** Kinds of {@link ConsumerEvent}. */
export type ConsumerEventType = (typeof ConsumerEventType)[keyof typeof ConsumerEventType];

/** Why a lease stopped being ours without us releasing it. */
export type LeaseLossReason = 'TAKEN' | 'EXPIRED_LOCALLY' | 'CHECKPOINT_FENCED';

/** Something that happened in the consumer: the observable trail of its decisions and failures. */
export type ConsumerEvent =
  | { readonly type: 'LEASE_CREATED'; readonly leaseKey: string; readonly parentShardIds: readonly string[] }
  | {
      readonly type: 'LEASE_TAKEN';
      readonly leaseKey: string;
      readonly previousOwner: string | undefined;
      readonly stolen: boolean;
    }
  | { readonly type: 'LEASE_LOST'; readonly leaseKey: string; readonly reason: LeaseLossReason }
  | { readonly type: 'LEASE_RELEASED'; readonly leaseKey: string }
  | {
      /** Lease cleanup deleted a lease the lineage no longer needs (see `cleanupLeasesUponShardCompletion`). */
      readonly type: 'LEASE_DELETED';
      readonly leaseKey: string;
      readonly reason: LeaseDeletionReason;
    }
  | {
      /** This worker asked another for a live lease (rebalancing); it starts once the owner let go. */
      readonly type: 'LEASE_HANDOFF_REQUESTED';
      readonly leaseKey: string;
      readonly previousOwner: string;
    }
  | {
      /** Another worker asked for one of this worker's leases: the shard winds down, then hands over. */
      readonly type: 'LEASE_HANDOFF_STARTED';
      readonly leaseKey: string;
      readonly nextOwner: string;
    }
  | {
      /** This worker's final checkpoint is written and the lease now belongs to `nextOwner`. */
      readonly type: 'LEASE_HANDED_OFF';
      readonly leaseKey: string;
      readonly nextOwner: string;
    }
  | {
      /** Another live process renews leases under this worker's id: they are left alone (fix the ids). */
      readonly type: 'DUPLICATE_WORKER_ID';
      readonly workerId: string;
      readonly leaseKeys: readonly string[];
    }
  | { readonly type: 'SHARD_STARTED'; readonly shardId: string; readonly checkpoint: ExtendedSequenceNumber }
  | { readonly type: 'SHARD_ENDED'; readonly shardId: string; readonly childShardIds: readonly string[] }
  | {
      /**
       * A session failed (`ShardSession.fail`, or a poison batch of `run()`): its lease was released
       * without a further checkpoint, so the shard is redone from `checkpoint`. `failureCount` counts the
       * failures in a row at that checkpoint (kept in the lease item; `undefined` when the store could
       * not record it); `halted` once it reached `maxShardFailures`.
       */
      readonly type: 'SHARD_FAILED';
      readonly shardId: string;
      readonly error: Error;
      readonly checkpoint: ExtendedSequenceNumber;
      readonly failureCount: number | undefined;
      readonly halted: boolean;
    }
  | {
      /**
       * The shard failed `maxShardFailures` times in a row at one checkpoint and is halted: the lease item
       * says so (`shardlineHalted`), every Shardline worker leaves it alone, and `shardline status` shows
       * it, until `shardline skip` (or `reset`) moves its checkpoint.
       */
      readonly type: 'SHARD_HALTED';
      readonly shardId: string;
      readonly error: Error;
    }
  | {
      readonly type: 'CHECKPOINT_WRITTEN';
      readonly shardId: string;
      readonly checkpoint: ExtendedSequenceNumber;
    }
  | {
      /**
       * A checkpoint write gave up: `checkpoint` is NOT in the lease table. `error` is a
       * `RetriesExhaustedError` (the table kept failing for the failover time, or answered with an error
       * that cannot be retried) whose `cause` is the last failure. The position stays recorded and is
       * written with the next write; with an interval, the next `checkpoint()` rejects with `error`.
       */
      readonly type: 'CHECKPOINT_FAILED';
      readonly shardId: string;
      readonly checkpoint: ExtendedSequenceNumber;
      readonly error: Error;
    }
  | {
      /** A batch was handled (checkpointed or released): the source of the records/bytes metrics. */
      readonly type: 'BATCH_PROCESSED';
      readonly shardId: string;
      readonly recordCount: number;
      readonly byteCount: number;
      readonly millisBehindLatest: number | undefined;
    }
  | {
      /** The checkpoint pointed at records the stream's retention already removed. */
      readonly type: 'RECORDS_TRIMMED';
      readonly shardId: string;
      readonly checkpoint: ExtendedSequenceNumber;
      /** Where reading resumed (the oldest record available). */
      readonly resumedAt: 'TRIM_HORIZON';
    }
  | {
      /** A de-aggregated user record whose hash key lies outside the shard's range (delivered anyway). */
      readonly type: 'RECORD_OUTSIDE_SHARD_RANGE';
      readonly shardId: string;
      readonly sequenceNumber: string;
      readonly subSequenceNumber: number;
      readonly partitionKey: string;
    }
  | {
      readonly type: 'BATCH_DEAD_LETTERED';
      readonly shardId: string;
      readonly firstSequenceNumber: string | undefined;
      readonly recordCount: number;
      readonly error: Error;
    }
  | {
      readonly type: 'RETRY';
      readonly operation: string;
      readonly shardId: string | undefined;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: Error;
    }
  | {
      /** An enhanced fan-out subscription to a shard started (`isRenewal`: not the session's first). */
      readonly type: 'SUBSCRIBED';
      readonly shardId: string;
      readonly isRenewal: boolean;
    }
  | { readonly type: 'ERROR'; readonly shardId: string | undefined; readonly error: Error }
  | { readonly type: 'STATE_CHANGED'; readonly state: ConsumerState };

/** Lifecycle of a consumer: `@shardline/common`'s {@link LifecycleState}. */
export const ConsumerState = LifecycleState;
/** Lifecycle of a consumer. */
export type ConsumerState = LifecycleState;

/** Receives events. */
export type ConsumerEventListener = (event: ConsumerEvent) => void;

/** Coerces a thrown value into an Error for events. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
