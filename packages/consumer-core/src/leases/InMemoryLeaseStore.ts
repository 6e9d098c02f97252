import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { Lease, NewLease } from './Lease.js';
import { leaseFromNew } from './Lease.js';
import {
  type CheckpointUpdate,
  type LeaseMetaUpdate,
  type LeaseStore,
  type PrepareCheckpointUpdate,
  TAKE_HINT_ATTRIBUTE,
} from './LeaseStore.js';
import { type ShardFailureRecord, withoutShardFailure, withShardFailure } from './shardFailure.js';
import { streamIdentityAttributes } from './streamIdentity.js';

/** A write the in-memory store is about to make, for fault injection in tests. */
export interface InMemoryLeaseStoreOperation {
  readonly operation:
    | 'create'
    | 'renew'
    | 'take'
    | 'release'
    | 'checkpoint'
    | 'prepare'
    | 'meta'
    | 'list'
    | 'query'
    | 'get'
    | 'requestHandoff'
    | 'completeHandoff'
    | 'reset'
    | 'delete'
    | 'fail';
  readonly leaseKey: string | undefined;
}

/** Options of {@link InMemoryLeaseStore}. */
export interface InMemoryLeaseStoreOptions {
  /** Leases present from the start. */
  readonly leases?: readonly Lease[];
  /** Called before every operation; throw from it to inject a failure. */
  readonly beforeOperation?: (operation: InMemoryLeaseStoreOperation) => void | Promise<void>;
}

/**
 * A {@link LeaseStore} in memory with the same conditional-write rules as the DynamoDB adapter (the
 * same contract suite runs against both). For unit tests of processors and of the library itself.
 */
export class InMemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, Lease>();
  readonly #beforeOperation: InMemoryLeaseStoreOptions['beforeOperation'];

  constructor(options: InMemoryLeaseStoreOptions = {}) {
    for (const lease of options.leases ?? []) this.#leases.set(lease.leaseKey, lease);
    this.#beforeOperation = options.beforeOperation;
  }

  /** Every lease, as stored (a snapshot). */
  snapshot(): Lease[] {
    return [...this.#leases.values()];
  }

  /** Replaces or adds a lease unconditionally (test set-up, or simulating another worker). */
  put(lease: Lease): void {
    this.#leases.set(lease.leaseKey, lease);
  }

  async initialize(): Promise<void> {}

  async listLeases(): Promise<Lease[]> {
    await this.#before('list', undefined);
    return this.snapshot();
  }

  async listLeaseKeysOwnedBy(owner: string): Promise<string[]> {
    await this.#before('query', undefined);
    const keys: string[] = [];
    for (const lease of this.#leases.values()) if (lease.leaseOwner === owner) keys.push(lease.leaseKey);
    return keys;
  }

  async getLease(leaseKey: string): Promise<Lease | undefined> {
    await this.#before('get', leaseKey);
    return this.#leases.get(leaseKey);
  }

  async createLeaseIfNotExists(lease: NewLease): Promise<boolean> {
    await this.#before('create', lease.leaseKey);
    if (this.#leases.has(lease.leaseKey)) return false;
    this.#leases.set(lease.leaseKey, leaseFromNew(lease));
    return true;
  }

  async renewLease(lease: Lease): Promise<Lease | undefined> {
    await this.#before('renew', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (
      !stored ||
      stored.leaseCounter !== lease.leaseCounter ||
      stored.checkpointOwner !== lease.checkpointOwner
    ) {
      return undefined;
    }
    return this.#store({ ...stored, leaseCounter: stored.leaseCounter + 1 });
  }

  async takeLease(lease: Lease, owner: string): Promise<Lease | undefined> {
    await this.#before('take', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || stored.leaseCounter !== lease.leaseCounter) return undefined;
    const switched = stored.leaseOwner !== undefined && stored.leaseOwner !== owner;
    return this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      leaseOwner: owner,
      ownerSwitchesSinceCheckpoint: stored.ownerSwitchesSinceCheckpoint + (switched ? 1 : 0),
      checkpointOwner: undefined,
    });
  }

  async releaseLease(lease: Lease): Promise<boolean> {
    await this.#before('release', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || stored.leaseOwner === undefined || stored.leaseOwner !== lease.leaseOwner) return false;
    this.#store({ ...stored, leaseCounter: stored.leaseCounter + 1, leaseOwner: undefined });
    return true;
  }

  async updateCheckpoint(lease: Lease, update: CheckpointUpdate): Promise<Lease | undefined> {
    await this.#before('checkpoint', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || !this.#isFenceHeld(stored, lease)) return undefined;
    return this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      checkpoint: update.checkpoint,
      ownerSwitchesSinceCheckpoint: 0,
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
      unknownAttributes: withoutShardFailure(stored.unknownAttributes),
      childShardIds:
        update.childShardIds && update.childShardIds.length > 0
          ? [...update.childShardIds]
          : stored.childShardIds,
    });
  }

  async prepareCheckpoint(lease: Lease, update: PrepareCheckpointUpdate): Promise<Lease | undefined> {
    await this.#before('prepare', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || !this.#isFenceHeld(stored, lease)) return undefined;
    const state = update.pendingCheckpointState;
    return this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      pendingCheckpoint: update.pendingCheckpoint,
      pendingCheckpointState: state && state.length > 0 ? state : undefined,
    });
  }

  async requestHandoff(lease: Lease, nextOwner: string): Promise<Lease | undefined> {
    await this.#before('requestHandoff', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (
      !stored ||
      stored.leaseOwner === undefined ||
      stored.leaseOwner !== lease.leaseOwner ||
      stored.leaseCounter !== lease.leaseCounter ||
      stored.checkpointOwner !== undefined
    ) {
      return undefined;
    }
    return this.#store({ ...stored, leaseOwner: nextOwner, checkpointOwner: stored.leaseOwner });
  }

  async completeHandoff(lease: Lease): Promise<boolean> {
    await this.#before('completeHandoff', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (
      !stored ||
      lease.checkpointOwner === undefined ||
      stored.checkpointOwner !== lease.checkpointOwner ||
      stored.leaseCounter !== lease.leaseCounter
    ) {
      return false;
    }
    this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      checkpointOwner: undefined,
      ownerSwitchesSinceCheckpoint: stored.ownerSwitchesSinceCheckpoint + 1,
    });
    return true;
  }

  async resetCheckpoint(lease: Lease, checkpoint: ExtendedSequenceNumber): Promise<boolean> {
    await this.#before('reset', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || stored.leaseCounter !== lease.leaseCounter) return false;
    this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      leaseOwner: undefined,
      checkpoint,
      ownerSwitchesSinceCheckpoint: 0,
      checkpointOwner: undefined,
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
      unknownAttributes: withoutShardFailure(stored.unknownAttributes),
    });
    return true;
  }

  async recordShardFailure(lease: Lease, failure: ShardFailureRecord): Promise<boolean> {
    await this.#before('fail', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || !this.#isFenceHeld(stored, lease)) return false;
    this.#store({
      ...stored,
      leaseCounter: stored.leaseCounter + 1,
      leaseOwner: undefined,
      checkpointOwner: undefined,
      unknownAttributes: withShardFailure(stored.unknownAttributes, failure),
    });
    return true;
  }

  async deleteLease(lease: Lease): Promise<boolean> {
    await this.#before('delete', lease.leaseKey);
    const stored = this.#leases.get(lease.leaseKey);
    if (!stored || stored.leaseCounter !== lease.leaseCounter) return false;
    this.#leases.delete(lease.leaseKey);
    return true;
  }

  async updateLeaseMeta(leaseKey: string, update: LeaseMetaUpdate): Promise<boolean> {
    await this.#before('meta', leaseKey);
    const stored = this.#leases.get(leaseKey);
    if (!stored) return false;
    this.#store({
      ...stored,
      childShardIds:
        update.childShardIds && update.childShardIds.length > 0
          ? [...update.childShardIds]
          : stored.childShardIds,
      hashKeyRange: update.hashKeyRange ?? stored.hashKeyRange,
      unknownAttributes: {
        ...stored.unknownAttributes,
        ...(update.takeHint === undefined ? {} : { [TAKE_HINT_ATTRIBUTE]: { S: update.takeHint } }),
        ...(update.streamIdentity ? streamIdentityAttributes(update.streamIdentity) : {}),
      },
    });
    return true;
  }

  /** The fencing condition of checkpoint writes: same counter, and the same owner (or hand-off giver). */
  #isFenceHeld(stored: Lease, lease: Lease): boolean {
    if (stored.leaseCounter !== lease.leaseCounter) return false;
    if (lease.checkpointOwner !== undefined) return stored.checkpointOwner === lease.checkpointOwner;
    return stored.leaseOwner !== undefined && stored.leaseOwner === lease.leaseOwner;
  }

  #store(lease: Lease): Lease {
    this.#leases.set(lease.leaseKey, lease);
    return lease;
  }

  async #before(
    operation: InMemoryLeaseStoreOperation['operation'],
    leaseKey: string | undefined,
  ): Promise<void> {
    await this.#beforeOperation?.({ operation, leaseKey });
  }
}
