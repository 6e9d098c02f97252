import { retry } from '@shardline/common';
import { SentinelCheckpoint, sentinelPosition } from '../checkpoint/ExtendedSequenceNumber.js';
import type { ConsumerEventListener } from '../events.js';
import { forEachConcurrently } from '../internal/forEachConcurrently.js';
import type { LeaseStore } from '../leases/LeaseStore.js';
import type { StreamIdentity } from '../leases/streamIdentity.js';
import type { ChildShard } from '../retrieval/ShardReader.js';
import type { ShardLister } from './ShardLister.js';
import type { InitialPosition, ShardDescription } from './shardLineage.js';
import { planNewLeases } from './shardLineage.js';

/** Lease creations in flight at once during a sync. */
const SYNC_CONCURRENCY = 16;

/** Options of {@link ShardSyncer}. */
export interface ShardSyncerOptions {
  readonly lister: ShardLister;
  readonly store: LeaseStore;
  readonly initialPosition: InitialPosition;
  readonly onEvent: ConsumerEventListener;
  /** Receives every complete (unfiltered) listing of the stream: lease cleanup tells gone shards by it. */
  readonly onShardsListed?: (shards: readonly ShardDescription[]) => void;
}

/**
 * Keeps the lease table in step with the stream: one lease per shard, created once (conditional put),
 * with its parents, parents first. Runs at start, periodically, and at every shard end.
 */
export class ShardSyncer {
  readonly #options: ShardSyncerOptions;
  #streamIdentity: StreamIdentity | undefined;

  constructor(options: ShardSyncerOptions) {
    this.#options = options;
  }

  /** From now on, every lease created is stamped with the stream it belongs to. */
  stampLeasesWith(identity: StreamIdentity): void {
    this.#streamIdentity = identity;
  }

  get #stamp(): { streamIdentity?: StreamIdentity } {
    return this.#streamIdentity ? { streamIdentity: this.#streamIdentity } : {};
  }

  /** Lists shards and leases and creates the missing leases. @returns how many were created. */
  async sync(signal?: AbortSignal): Promise<number> {
    const { lister, store, initialPosition } = this.#options;
    const leases = await this.#retried(() => store.listLeases(signal), signal);
    // A new application starting at LATEST or a timestamp needs no lease for shards closed before then:
    // let ListShards leave them out (ShardFilter). Later syncs list everything to follow the lineage.
    const isFirstSync = leases.length === 0 && initialPosition !== 'TRIM_HORIZON';
    const shards = await lister.listShards(signal, isFirstSync ? initialPosition : undefined);
    if (!isFirstSync) this.#options.onShardsListed?.(shards);
    const plan = planNewLeases({
      shards,
      existingLeaseKeys: new Set(leases.map((lease) => lease.leaseKey)),
      initialPosition,
    });
    let created = 0;
    // Parents before children, as the plan orders them; leases whose parents are all written (or not
    // in the plan) are written together, a few at a time: a new stream of 10,000 shards is one wave.
    const pending = new Set(plan.map((lease) => lease.leaseKey));
    let rest = plan;
    while (rest.length > 0) {
      const wave = rest.filter((lease) => lease.parentShardIds.every((parent) => !pending.has(parent)));
      const next = wave.length > 0 ? wave : rest.slice(0, 1); // a cycle cannot happen; never stall
      await forEachConcurrently(next, SYNC_CONCURRENCY, async (lease) => {
        const stamped = { ...lease, ...this.#stamp };
        if (await this.#retried(() => store.createLeaseIfNotExists(stamped, signal), signal)) {
          created += 1;
          this.#options.onEvent({
            type: 'LEASE_CREATED',
            leaseKey: lease.leaseKey,
            parentShardIds: lease.parentShardIds,
          });
        }
      });
      for (const lease of next) pending.delete(lease.leaseKey);
      rest = rest.filter((lease) => pending.has(lease.leaseKey));
    }
    return created;
  }

  /**
   * Creates leases for the children reported at a shard's end (`ChildShards`), at `TRIM_HORIZON`: they
   * start once every parent is at `SHARD_END`.
   */
  async createChildLeases(children: readonly ChildShard[], signal?: AbortSignal): Promise<void> {
    for (const child of children) {
      const created = await this.#retried(
        () =>
          this.#options.store.createLeaseIfNotExists(
            {
              leaseKey: child.shardId,
              checkpoint: sentinelPosition(SentinelCheckpoint.TrimHorizon),
              parentShardIds: child.parentShardIds,
              hashKeyRange: child.hashKeyRange,
              ...this.#stamp,
            },
            signal,
          ),
        signal,
      );
      if (created) {
        this.#options.onEvent({
          type: 'LEASE_CREATED',
          leaseKey: child.shardId,
          parentShardIds: child.parentShardIds,
        });
      }
    }
  }

  /** One lease-table call, retried on throttling and transient faults (a sync makes many). */
  #retried<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return retry(call, { maxAttempts: 6, initialDelayMs: 100, maxDelayMs: 2_000, signal });
  }
}
