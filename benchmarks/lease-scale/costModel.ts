/**
 * A DynamoDB cost model for the lease table, put in front of the in-memory lease store: every
 * `LeaseStore` call is charged as the request(s) the DynamoDB adapter (`DynamoDBLeaseStore`) sends for
 * it, in read and write capacity units computed from the item sizes, against per-partition limits.
 *
 * What it models (DynamoDB developer guide, "Read/write capacity mode", "Item sizes", "Partitions"):
 * - item size: attribute names plus values (strings and binaries by length, numbers by significant
 *   digits: 1 byte per 2 digits + 1), of the item the adapter writes (`leaseToItem`, plus the retrieval
 *   and stream-identity attributes the adapter adds);
 * - reads: `GetItem` ⌈size / 4 KiB⌉ units; `Scan` pages of at most 1 MiB, ⌈bytes of the page / 4 KiB⌉
 *   units; eventually consistent reads cost half. The adapter reads consistently (`ConsistentRead`);
 * - writes: ⌈max(size before, size after) / 1 KiB⌉ units, also when the condition fails;
 * - partitions: items spread over `partitions` by a hash of the key; each partition serves at most
 *   3,000 read and 1,000 write units per second. A request that would pass the limit within the current
 *   second is throttled (it consumes nothing) and retried by the SDK (3 attempts, full-jitter backoff
 *   from 500 ms, as the SDK v3 standard retry strategy for throttling); the third throttle fails the call
 *   with a retriable `ThroughputExceededError`, as the adapter reports it. No burst or adaptive capacity
 *   is modelled: the limits are the sustained ones.
 * - latency: every request takes `latencyMs` of virtual time (a scan page a little more per MiB).
 *
 * Leader-based assignment adds two ledgers, each a {@link Meter} with its own partitions and limits:
 * - the lease table's `leaseOwner` global secondary index ({@link OwnerIndex}; KEYS_ONLY, as the KCL
 *   3.x `LeaseOwnerToLeaseKeyIndex`), partitioned by owner. Reads: `listLeaseKeysOwnedBy` is a `Query`
 *   on it, eventually consistent: ⌈(returned entries × entry size) / 4 KiB⌉ × 0.5 units, at least 0.5
 *   (an entry: the names and values of `leaseKey` and `leaseOwner`), on the owner's index partition.
 *   Writes: a KEYS_ONLY index is written only when its key (`leaseOwner`) changes: the old entry's
 *   delete and the new entry's put, 1 write unit each (entries are far under 1 KiB); an unowned lease
 *   has no entry. So `takeLease` (owner set or changed), `requestHandoff` (owner changed), and
 *   `releaseLease`, `recordShardFailure`, `resetCheckpoint`, `deleteLease` of an owned lease (owner
 *   removed) write the index, when they succeed; `completeHandoff` (the owner was set by the request),
 *   renewals, checkpoints, creates and meta updates do not. Index writes are charged to the index's
 *   ledger under the kind of the table write that caused them, once it succeeded. As in DynamoDB, a
 *   table write whose index writes would pass an index partition's limit is throttled (and retried
 *   like any throttled request; `throttledByIndex` counts them). The index is partitioned by owner, so
 *   all of one worker's entries sit on one index partition: 1,000 index writes a second per worker at
 *   most. Changes reach the index's queries `lagMs` after the table write.
 * - the coordinator table (leader and `worker:<id>` heartbeat items): a second table, charged like the
 *   lease table on a ledger of its own.
 */

import type { ExtendedSequenceNumber } from '../../packages/consumer-core/src/checkpoint/ExtendedSequenceNumber.js';
import { ThroughputExceededError } from '../../packages/consumer-core/src/errors.js';
import { leaseToItem } from '../../packages/consumer-core/src/leases/dynamodb/leaseSerializer.js';
import type { InMemoryLeaseStore } from '../../packages/consumer-core/src/leases/InMemoryLeaseStore.js';
import type { Lease, NewLease } from '../../packages/consumer-core/src/leases/Lease.js';
import type {
  CheckpointUpdate,
  LeaseMetaUpdate,
  LeaseStore,
  PrepareCheckpointUpdate,
} from '../../packages/consumer-core/src/leases/LeaseStore.js';
import type { ShardFailureRecord } from '../../packages/consumer-core/src/leases/shardFailure.js';

/** The request kinds, as `instrumentDynamoDBClient` names them. */
export type RequestKind =
  | 'scan'
  | 'get'
  | 'create'
  | 'renew'
  | 'take'
  | 'release'
  | 'handoff'
  | 'checkpoint'
  | 'meta'
  | 'delete'
  | 'query';

export const REQUEST_KINDS: readonly RequestKind[] = [
  'scan',
  'get',
  'create',
  'renew',
  'take',
  'release',
  'handoff',
  'checkpoint',
  'meta',
  'delete',
  'query',
];

/** Per-partition limits of DynamoDB (units per second). */
export const PARTITION_READ_UNITS_PER_S = 3_000;
export const PARTITION_WRITE_UNITS_PER_S = 1_000;
const SCAN_PAGE_BYTES = 1024 * 1024;

/** Settings of the cost model. */
export interface CostModelSettings {
  /** Partitions of the table. */
  readonly partitions: number;
  /** Virtual time of one request, ms. */
  readonly latencyMs: number;
  /** Scans read with eventual consistency (half the units). The adapter reads consistently. */
  readonly eventuallyConsistentScans: boolean;
  /** Attempts of the SDK per call on throttling. */
  readonly sdkMaxAttempts: number;
  /** Random numbers for the SDK's backoff jitter. */
  readonly random: () => number;
}

/** Counters of one kind of request. */
export interface KindTotals {
  requests: number;
  readUnits: number;
  writeUnits: number;
  throttled: number;
}

/** Every counter the model keeps; {@link Meter.snapshot} copies it. */
export interface MeterTotals {
  readonly byKind: Record<RequestKind, KindTotals>;
  /** Calls failed after every SDK attempt was throttled. */
  failedCalls: number;
  /**
   * Index writes that passed a partition's limit (see {@link Meter.chargeIndexWrite}): DynamoDB would
   * have throttled the table write that caused them.
   */
  indexWritesOverLimit: number;
  /**
   * Table writes throttled because the index partitions they would write were at their limit
   * (counted in `throttled` of their kind too).
   */
  throttledByIndex: number;
}

function emptyTotals(): MeterTotals {
  const byKind = {} as Record<RequestKind, KindTotals>;
  for (const kind of REQUEST_KINDS) byKind[kind] = { requests: 0, readUnits: 0, writeUnits: 0, throttled: 0 };
  return { byKind, failedCalls: 0, indexWritesOverLimit: 0, throttledByIndex: 0 };
}

/** The DynamoDB size of an attribute value. */
function valueSize(value: Record<string, unknown>): number {
  if ('S' in value) return Buffer.byteLength(value.S as string);
  if ('N' in value) return numberSize(value.N as string);
  if ('B' in value) return (value.B as Uint8Array).length;
  if ('SS' in value) return (value.SS as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('L' in value) {
    const list = value.L as Record<string, unknown>[];
    return 3 + list.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  }
  if ('M' in value) {
    const map = value.M as Record<string, Record<string, unknown>>;
    return 3 + Object.entries(map).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  }
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Attributes the DynamoDB adapter writes that the in-memory store does not keep. */
const ADAPTER_EXTRA = {
  shardlineRetrieval: { S: 'polling' },
  shardlineStreamArn: { S: 'arn:aws:kinesis:eu-west-1:123456789012:stream/application-events' },
  shardlineStreamCreatedAt: { S: '2026-01-01T00:00:00.000Z' },
};

/** The item size without its counter, by lease key, with what it was computed from. */
interface SizeEntry {
  leaseOwner: Lease['leaseOwner'];
  checkpoint: Lease['checkpoint'];
  pendingCheckpoint: Lease['pendingCheckpoint'];
  pendingCheckpointState: Lease['pendingCheckpointState'];
  checkpointOwner: Lease['checkpointOwner'];
  unknownAttributes: Lease['unknownAttributes'];
  ownerSwitchesSinceCheckpoint: number;
  childShardIds: Lease['childShardIds'];
  sizeWithoutCounter: number;
}
const sizes = new Map<string, SizeEntry>();
const COUNTER_NAME_BYTES = Buffer.byteLength('leaseCounter');

function isSameBasis(entry: SizeEntry, lease: Lease): boolean {
  return (
    entry.leaseOwner === lease.leaseOwner &&
    entry.checkpoint === lease.checkpoint &&
    entry.pendingCheckpoint === lease.pendingCheckpoint &&
    entry.pendingCheckpointState === lease.pendingCheckpointState &&
    entry.checkpointOwner === lease.checkpointOwner &&
    entry.unknownAttributes === lease.unknownAttributes &&
    entry.ownerSwitchesSinceCheckpoint === lease.ownerSwitchesSinceCheckpoint &&
    entry.childShardIds === lease.childShardIds
  );
}

/**
 * The size in bytes of a lease's item in the table, as the DynamoDB adapter writes it. Cached per lease
 * key while nothing but the counter changed (the counter's own size is added each time).
 */
export function itemSizeBytes(lease: Lease): number {
  const counter = lease.leaseCounter;
  const counterBytes =
    COUNTER_NAME_BYTES + (counter < 10 ? 2 : Math.ceil(Math.floor(Math.log10(counter) + 1) / 2) + 1);
  const cached = sizes.get(lease.leaseKey);
  if (cached && isSameBasis(cached, lease)) return cached.sizeWithoutCounter + counterBytes;
  const item = { ...ADAPTER_EXTRA, ...leaseToItem(lease) } as Record<string, Record<string, unknown>>;
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (name !== 'leaseCounter') size += Buffer.byteLength(name) + valueSize(value);
  }
  sizes.set(lease.leaseKey, {
    leaseOwner: lease.leaseOwner,
    checkpoint: lease.checkpoint,
    pendingCheckpoint: lease.pendingCheckpoint,
    pendingCheckpointState: lease.pendingCheckpointState,
    checkpointOwner: lease.checkpointOwner,
    unknownAttributes: lease.unknownAttributes,
    ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint,
    childShardIds: lease.childShardIds,
    sizeWithoutCounter: size,
  });
  return size + counterBytes;
}

const partitionCaches = new Map<number, Map<string, number>>();

/** A stable partition of a key (FNV-1a). */
export function partitionOf(leaseKey: string, partitions: number): number {
  let cache = partitionCaches.get(partitions);
  if (!cache) {
    cache = new Map();
    partitionCaches.set(partitions, cache);
  }
  const cached = cache.get(leaseKey);
  if (cached !== undefined) return cached;
  let hash = 0x811c9dc5;
  for (let i = 0; i < leaseKey.length; i++) {
    hash ^= leaseKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const partition = hash % partitions;
  cache.set(leaseKey, partition);
  return partition;
}

/** One partition's use in one second. */
interface SecondUse {
  second: number;
  readUnits: number;
  writeUnits: number;
}

/**
 * The table's capacity ledger: charges requests per partition and second, throttles above the limits,
 * and counts everything by request kind.
 */
export class Meter {
  readonly settings: CostModelSettings;
  readonly #now: () => number;
  readonly #use: SecondUse[];
  totals: MeterTotals = emptyTotals();
  /** The most read / write units any partition served in one second (since {@link resetPeaks}). */
  peakPartitionReadUnits = 0;
  peakPartitionWriteUnits = 0;

  constructor(settings: CostModelSettings, now: () => number) {
    this.settings = settings;
    this.#now = now;
    this.#use = Array.from({ length: settings.partitions }, () => ({
      second: -1,
      readUnits: 0,
      writeUnits: 0,
    }));
  }

  /** A copy of the counters (take two and subtract for a window). */
  snapshot(): MeterTotals {
    return structuredClone(this.totals);
  }

  resetPeaks(): void {
    this.peakPartitionReadUnits = 0;
    this.peakPartitionWriteUnits = 0;
  }

  /** Whether `charges` (units by partition) fit within this second's limits (nothing is charged). */
  fits(charges: ReadonlyMap<number, number>, write: boolean): boolean {
    const second = Math.floor(this.#now() / 1_000);
    const limit = write ? PARTITION_WRITE_UNITS_PER_S : PARTITION_READ_UNITS_PER_S;
    for (const [partition, units] of charges) {
      const use = this.#use[partition]!;
      if (use.second !== second) {
        use.second = second;
        use.readUnits = 0;
        use.writeUnits = 0;
      }
      const used = write ? use.writeUnits : use.readUnits;
      // A single request larger than the limit is served when the partition is idle this second.
      if (used > 0 && used + units > limit) return false;
    }
    return true;
  }

  #commit(charges: ReadonlyMap<number, number>, write: boolean): void {
    for (const [partition, units] of charges) {
      const use = this.#use[partition]!;
      if (write) {
        use.writeUnits += units;
        this.peakPartitionWriteUnits = Math.max(this.peakPartitionWriteUnits, use.writeUnits);
      } else {
        use.readUnits += units;
        this.peakPartitionReadUnits = Math.max(this.peakPartitionReadUnits, use.readUnits);
      }
    }
  }

  /**
   * The index writes a table write caused (`units` on the index partition of each owner value written
   * or removed), charged to `kind`'s write units once the write succeeded. The table write was
   * throttled beforehand if the writes it would make did not fit (see {@link request}); one that
   * passes the limit all the same (another write got there in between) is counted in
   * `indexWritesOverLimit`.
   */
  chargeIndexWrite(kind: RequestKind, charges: ReadonlyMap<number, number>): void {
    const second = Math.floor(this.#now() / 1_000);
    let units = 0;
    for (const [partition, amount] of charges) {
      const use = this.#use[partition]!;
      if (use.second !== second) {
        use.second = second;
        use.readUnits = 0;
        use.writeUnits = 0;
      }
      if (use.writeUnits + amount > PARTITION_WRITE_UNITS_PER_S) this.totals.indexWritesOverLimit += 1;
      use.writeUnits += amount;
      this.peakPartitionWriteUnits = Math.max(this.peakPartitionWriteUnits, use.writeUnits);
      units += amount;
    }
    this.totals.byKind[kind].writeUnits += units;
  }

  /**
   * One request as the SDK sends it: latency, charge (retried with backoff on throttling), then the
   * operation on the in-memory table. @throws `ThroughputExceededError` after the last throttled attempt.
   */
  async request<T>(
    kind: RequestKind,
    charges: ReadonlyMap<number, number>,
    write: boolean,
    latencyMs: number,
    operation: () => Promise<T>,
    signal?: AbortSignal,
    index?: { readonly meter: Meter; readonly charges: ReadonlyMap<number, number> },
  ): Promise<T> {
    const totals = this.totals.byKind[kind];
    totals.requests += 1;
    for (let attempt = 1; ; attempt++) {
      await sleep(latencyMs, signal);
      const fits = this.fits(charges, write);
      const indexFits = !index || index.charges.size === 0 || index.meter.fits(index.charges, true);
      if (fits && !indexFits) this.totals.throttledByIndex += 1;
      if (fits && indexFits) {
        this.#commit(charges, write);
        let units = 0;
        for (const value of charges.values()) units += value;
        if (write) totals.writeUnits += units;
        else totals.readUnits += units;
        return operation();
      }
      totals.throttled += 1;
      if (attempt >= this.settings.sdkMaxAttempts) {
        this.totals.failedCalls += 1;
        throw new ThroughputExceededError(
          'dynamodb',
          kind,
          new Error('ProvisionedThroughputExceededException'),
        );
      }
      await sleep(this.settings.random() * Math.min(20_000, 500 * 2 ** (attempt - 1)), signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const LEASE_KEY_NAME_BYTES = Buffer.byteLength('leaseKey');
const LEASE_OWNER_NAME_BYTES = Buffer.byteLength('leaseOwner');
const QUERY_PAGE_BYTES = 1024 * 1024;

/**
 * The lease table's `leaseOwner` global secondary index (KEYS_ONLY: each entry holds the table key and
 * the index key), with a capacity ledger of its own ({@link OwnerIndex.meter}: an index has its own
 * partitions and limits). Written by the table writes that change a lease's owner, each owner change a
 * delete of the old entry and a put of the new one (1 write unit each: entries are far under 1 KiB);
 * a lease with no owner has no entry (sparse index). The index is eventually consistent: a change
 * reaches what a `Query` sees `lagMs` after the table write.
 */
export class OwnerIndex {
  readonly meter: Meter;
  readonly #lagMs: number;
  /** The owner of each lease in the table (index writes are charged from its changes). */
  readonly #tableOwnerOf = new Map<string, string>();
  /** What a Query sees: lease keys by owner. */
  readonly #keysOf = new Map<string, Set<string>>();
  readonly #indexedOwnerOf = new Map<string, string>();

  constructor(meter: Meter, lagMs: number) {
    this.meter = meter;
    this.#lagMs = lagMs;
  }

  /** A table write (of `kind`) left the lease with `owner`: charges and applies the index writes. */
  noteOwner(kind: RequestKind, leaseKey: string, owner: string | undefined): void {
    const before = this.#tableOwnerOf.get(leaseKey);
    if (before === owner) return;
    if (owner === undefined) this.#tableOwnerOf.delete(leaseKey);
    else this.#tableOwnerOf.set(leaseKey, owner);
    this.meter.chargeIndexWrite(kind, this.writeCharges(before, owner));
    if (this.#lagMs > 0) setTimeout(() => this.#apply(leaseKey, owner), this.#lagMs);
    else this.#apply(leaseKey, owner);
  }

  /** The index writes of an owner change: the old entry's delete and the new entry's put, 1 unit each. */
  writeCharges(from: string | undefined, to: string | undefined): Map<number, number> {
    const { partitions } = this.meter.settings;
    const charges = new Map<number, number>();
    const add = (value: string) => {
      const partition = partitionOf(value, partitions);
      charges.set(partition, (charges.get(partition) ?? 0) + 1);
    };
    if (from !== undefined) add(from);
    if (to !== undefined) add(to);
    return charges;
  }

  #apply(leaseKey: string, owner: string | undefined): void {
    const before = this.#indexedOwnerOf.get(leaseKey);
    if (before !== undefined) this.#keysOf.get(before)?.delete(leaseKey);
    if (owner === undefined) {
      this.#indexedOwnerOf.delete(leaseKey);
      return;
    }
    this.#indexedOwnerOf.set(leaseKey, owner);
    let keys = this.#keysOf.get(owner);
    if (!keys) {
      keys = new Set();
      this.#keysOf.set(owner, keys);
    }
    keys.add(leaseKey);
  }

  /** The keys a Query for `owner` returns now. */
  keysOwnedBy(owner: string): string[] {
    return [...(this.#keysOf.get(owner) ?? [])];
  }

  /**
   * The read units of a Query for `owner` (eventually consistent: half a unit per 4 KiB of entries
   * returned, at least half a unit per page; pages of at most 1 MiB), on the owner's index partition.
   */
  queryCharges(owner: string): Map<number, number> {
    let bytes = 0;
    for (const key of this.#keysOf.get(owner) ?? []) {
      bytes +=
        LEASE_KEY_NAME_BYTES + Buffer.byteLength(key) + LEASE_OWNER_NAME_BYTES + Buffer.byteLength(owner);
    }
    const pages = Math.max(1, Math.ceil(bytes / QUERY_PAGE_BYTES));
    const units = Math.max(0.5 * pages, Math.ceil(bytes / 4096) * 0.5);
    return new Map([[partitionOf(owner, this.meter.settings.partitions), units]]);
  }
}

/** The owner a boolean write (release, reset, delete) leaves: none when it took, unchanged (`false`) when not. */
function unowned(done: boolean): undefined | false {
  return done ? undefined : false;
}

/**
 * One worker's view of a table: the shared in-memory table, charged through the shared {@link Meter},
 * and its `leaseOwner` index when it has one (the lease table in leader-based assignment; the
 * coordinator table has none). `cutOff()` makes every later call fail (a crashed process sends
 * nothing more).
 */
export class MeteredLeaseStore implements LeaseStore {
  readonly #inner: InMemoryLeaseStore;
  readonly #meter: Meter;
  readonly #index: OwnerIndex | undefined;
  #isCutOff = false;

  constructor(inner: InMemoryLeaseStore, meter: Meter, index?: OwnerIndex) {
    this.#inner = inner;
    this.#meter = meter;
    this.#index = index;
  }

  /** Records the owner a successful write left on the lease (index writes). */
  #owned<T>(kind: RequestKind, leaseKey: string, owner: (result: T) => string | undefined | false) {
    return (result: T): T => {
      const after = owner(result);
      if (after !== false) this.#index?.noteOwner(kind, leaseKey, after);
      return result;
    };
  }

  cutOff(): void {
    this.#isCutOff = true;
  }

  #write<T>(
    kind: RequestKind,
    lease: Lease | undefined,
    leaseKey: string,
    op: () => Promise<T>,
    signal?: AbortSignal,
    ownerChange?: { readonly from: string | undefined; readonly to: string | undefined },
  ) {
    const { partitions, latencyMs } = this.#meter.settings;
    const size = lease ? itemSizeBytes(lease) + 40 : 300; // the write's growth (a new counter, an owner)
    const index =
      this.#index && ownerChange && ownerChange.from !== ownerChange.to
        ? { meter: this.#index.meter, charges: this.#index.writeCharges(ownerChange.from, ownerChange.to) }
        : undefined;
    return this.#call(
      kind,
      new Map([[partitionOf(leaseKey, partitions), Math.ceil(size / 1024)]]),
      true,
      latencyMs,
      op,
      signal,
      this.#meter,
      index,
    );
  }

  /**
   * A write that moves `lease` from its owner to `to` (index writes charged with it) and, when it
   * succeeds, records the owner it left (`ownerAfter`: the new owner, or `false` when the write did not
   * take).
   */
  #ownerWrite<T>(
    kind: RequestKind,
    lease: Lease,
    to: string | undefined,
    op: () => Promise<T>,
    ownerAfter: (result: T) => string | undefined | false,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.#write(
      kind,
      lease,
      lease.leaseKey,
      () => op().then(this.#owned(kind, lease.leaseKey, ownerAfter)),
      signal,
      { from: lease.leaseOwner, to },
    );
  }

  async #call<T>(
    kind: RequestKind,
    charges: ReadonlyMap<number, number>,
    write: boolean,
    latencyMs: number,
    op: () => Promise<T>,
    signal?: AbortSignal,
    meter: Meter = this.#meter,
    index?: { readonly meter: Meter; readonly charges: ReadonlyMap<number, number> },
  ): Promise<T> {
    if (this.#isCutOff) throw new Error('The process is gone.');
    const result = await meter.request(kind, charges, write, latencyMs, op, signal, index);
    if (this.#isCutOff) throw new Error('The process is gone.');
    return result;
  }

  async initialize(): Promise<void> {}

  async listLeases(signal?: AbortSignal): Promise<Lease[]> {
    const { partitions, latencyMs, eventuallyConsistentScans } = this.#meter.settings;
    // One Scan page after the other, partition by partition, each at most 1 MiB of items.
    const all = this.#inner.snapshot();
    const byPartition: Lease[][] = Array.from({ length: partitions }, () => []);
    for (const lease of all) byPartition[partitionOf(lease.leaseKey, partitions)]!.push(lease);
    const factor = eventuallyConsistentScans ? 0.5 : 1;
    let page = new Map<number, number>();
    let pageBytes = 0;
    const flush = async () => {
      const charges = new Map([...page].map(([p, bytes]) => [p, Math.ceil(bytes / 4096) * factor] as const));
      if (charges.size === 0) charges.set(0, 0.5 * factor);
      await this.#call(
        'scan',
        charges,
        false,
        latencyMs + 15 * (pageBytes / SCAN_PAGE_BYTES),
        async () => undefined,
        signal,
      );
      page = new Map();
      pageBytes = 0;
    };
    for (let p = 0; p < partitions; p++) {
      for (const lease of byPartition[p]!) {
        const size = itemSizeBytes(lease);
        if (pageBytes + size > SCAN_PAGE_BYTES) await flush();
        page.set(p, (page.get(p) ?? 0) + size);
        pageBytes += size;
      }
    }
    await flush();
    // The listing is the table as of the last page (a scan is not a snapshot either).
    return this.#inner.listLeases();
  }

  listLeaseKeysOwnedBy(owner: string, signal?: AbortSignal): Promise<string[]> {
    const index = this.#index;
    if (!index) return Promise.reject(new Error('This table has no leaseOwner index.'));
    return this.#call(
      'query',
      index.queryCharges(owner),
      false,
      this.#meter.settings.latencyMs,
      async () => index.keysOwnedBy(owner),
      signal,
      index.meter,
    );
  }

  async getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const { partitions, latencyMs } = this.#meter.settings;
    return this.#call(
      'get',
      new Map([[partitionOf(leaseKey, partitions), 1]]),
      false,
      latencyMs,
      () => this.#inner.getLease(leaseKey),
      signal,
    );
  }

  createLeaseIfNotExists(lease: NewLease, signal?: AbortSignal): Promise<boolean> {
    return this.#write(
      'create',
      undefined,
      lease.leaseKey,
      () => this.#inner.createLeaseIfNotExists(lease),
      signal,
    );
  }

  renewLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#write('renew', lease, lease.leaseKey, () => this.#inner.renewLease(lease), signal);
  }

  takeLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#ownerWrite(
      'take',
      lease,
      owner,
      () => this.#inner.takeLease(lease, owner),
      (taken) => taken?.leaseOwner ?? false,
      signal,
    );
  }

  releaseLease(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    return this.#ownerWrite(
      'release',
      lease,
      undefined,
      () => this.#inner.releaseLease(lease),
      unowned,
      signal,
    );
  }

  updateCheckpoint(lease: Lease, update: CheckpointUpdate, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#write(
      'checkpoint',
      lease,
      lease.leaseKey,
      () => this.#inner.updateCheckpoint(lease, update),
      signal,
    );
  }

  prepareCheckpoint(
    lease: Lease,
    update: PrepareCheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    return this.#write(
      'checkpoint',
      lease,
      lease.leaseKey,
      () => this.#inner.prepareCheckpoint(lease, update),
      signal,
    );
  }

  requestHandoff(lease: Lease, nextOwner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#ownerWrite(
      'handoff',
      lease,
      nextOwner,
      () => this.#inner.requestHandoff(lease, nextOwner),
      (handed) => handed?.leaseOwner ?? false,
      signal,
    );
  }

  completeHandoff(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    return this.#write('handoff', lease, lease.leaseKey, () => this.#inner.completeHandoff(lease), signal);
  }

  resetCheckpoint(lease: Lease, checkpoint: ExtendedSequenceNumber, signal?: AbortSignal): Promise<boolean> {
    return this.#ownerWrite(
      'checkpoint',
      lease,
      undefined,
      () => this.#inner.resetCheckpoint(lease, checkpoint),
      unowned,
      signal,
    );
  }

  recordShardFailure(lease: Lease, failure: ShardFailureRecord, signal?: AbortSignal): Promise<boolean> {
    return this.#ownerWrite(
      'release',
      lease,
      undefined,
      () => this.#inner.recordShardFailure(lease, failure),
      unowned,
      signal,
    );
  }

  deleteLease(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    return this.#ownerWrite(
      'delete',
      lease,
      undefined,
      () => this.#inner.deleteLease(lease),
      unowned,
      signal,
    );
  }

  updateLeaseMeta(leaseKey: string, update: LeaseMetaUpdate, signal?: AbortSignal): Promise<boolean> {
    return this.#write(
      'meta',
      undefined,
      leaseKey,
      () => this.#inner.updateLeaseMeta(leaseKey, update),
      signal,
    );
  }
}
