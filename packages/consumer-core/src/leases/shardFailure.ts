import type { ExtendedSequenceNumber } from '../checkpoint/ExtendedSequenceNumber.js';
import type { Lease } from './Lease.js';

/**
 * Attributes of a lease item that record failed sessions of its shard. The Java KCL ignores them (it
 * keeps attributes it does not know), so they live on the lease item itself: the lease table holds lease
 * items only.
 */
export const ShardFailureAttribute = {
  /** N: failed sessions in a row at the checkpoint `shardlineFailedAt`. */
  FailureCount: 'shardlineFailureCount',
  /** S: the checkpoint the failures happened at (formatted, `sequenceNumber[/subSequenceNumber]`). */
  FailedAt: 'shardlineFailedAt',
  /** S: the last failure's error, shortened. */
  LastFailure: 'shardlineLastFailure',
  /** S: set (an ISO 8601 time) once the shard is halted: every Shardline worker leaves the lease alone. */
  Halted: 'shardlineHalted',
} as const;

/** Longest error text stored in the lease item (an item is at most 400 KB; keep the lease small). */
const MAX_ERROR_TEXT_LENGTH = 1_000;

/** What a failed session records on its lease (see {@link LeaseStore.recordShardFailure}). */
export interface ShardFailureRecord {
  /** Failed sessions in a row at `failedAt`, this one included. */
  readonly failureCount: number;
  /** The checkpoint the session failed at (the position the next owner starts after). */
  readonly failedAt: ExtendedSequenceNumber;
  /** The error, as text. */
  readonly error: string;
  /** Whether the shard is halted (`failureCount` reached `maxShardFailures`): set only then. */
  readonly haltedAt: string | undefined;
}

/** A lease's failure state as stored. */
export interface ShardFailureState {
  readonly failureCount: number;
  readonly failedAt: string | undefined;
  readonly lastFailure: string | undefined;
  /** When the shard was halted (ISO 8601), or `undefined` when it is not. */
  readonly haltedAt: string | undefined;
}

/** Formats a position as stored in `shardlineFailedAt`. */
export function formatFailurePosition(position: ExtendedSequenceNumber): string {
  return position.subSequenceNumber > 0
    ? `${position.sequenceNumber}/${position.subSequenceNumber}`
    : position.sequenceNumber;
}

/** The failure attributes of a lease (read from its opaque attributes). */
export function shardFailureOf(lease: Lease): ShardFailureState {
  const attribute = (name: string) =>
    lease.unknownAttributes[name] as { S?: unknown; N?: unknown } | undefined;
  const text = (name: string) => {
    const value = attribute(name)?.S;
    return typeof value === 'string' ? value : undefined;
  };
  const count = Number(attribute(ShardFailureAttribute.FailureCount)?.N ?? 0);
  return {
    failureCount: Number.isSafeInteger(count) && count > 0 ? count : 0,
    failedAt: text(ShardFailureAttribute.FailedAt),
    lastFailure: text(ShardFailureAttribute.LastFailure),
    haltedAt: text(ShardFailureAttribute.Halted),
  };
}

/** Whether the shard of a lease was halted after repeated failures (workers leave it alone). */
export function isLeaseHalted(lease: Lease): boolean {
  return shardFailureOf(lease).haltedAt !== undefined;
}

/**
 * What a session that failed at the lease's current checkpoint records: one more failure when the
 * previous ones happened at the same checkpoint (otherwise the count starts again at 1), and the halt
 * once the count reaches `maxShardFailures`.
 */
export function nextShardFailure(
  lease: Lease,
  error: Error,
  maxShardFailures: number,
  now: Date,
): ShardFailureRecord {
  const previous = shardFailureOf(lease);
  const failedAt = lease.checkpoint;
  const failureCount = previous.failedAt === formatFailurePosition(failedAt) ? previous.failureCount + 1 : 1;
  const text = `${error.name}: ${error.message}`;
  return {
    failureCount,
    failedAt,
    error: text.length > MAX_ERROR_TEXT_LENGTH ? `${text.slice(0, MAX_ERROR_TEXT_LENGTH - 1)}…` : text,
    haltedAt: failureCount >= maxShardFailures ? now.toISOString() : undefined,
  };
}

/** The lease's opaque attributes with a failure recorded (the in-memory store and returned leases). */
export function withShardFailure(
  unknownAttributes: Readonly<Record<string, unknown>>,
  failure: ShardFailureRecord,
): Record<string, unknown> {
  const next: Record<string, unknown> = {
    ...unknownAttributes,
    [ShardFailureAttribute.FailureCount]: { N: String(failure.failureCount) },
    [ShardFailureAttribute.FailedAt]: { S: formatFailurePosition(failure.failedAt) },
    [ShardFailureAttribute.LastFailure]: { S: failure.error },
  };
  if (failure.haltedAt !== undefined) next[ShardFailureAttribute.Halted] = { S: failure.haltedAt };
  return next;
}

/** The lease's opaque attributes without the failure attributes (after a checkpoint, skip or reset). */
export function withoutShardFailure(
  unknownAttributes: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const names: readonly string[] = Object.values(ShardFailureAttribute);
  if (!names.some((name) => name in unknownAttributes)) return unknownAttributes;
  return Object.fromEntries(Object.entries(unknownAttributes).filter(([name]) => !names.includes(name)));
}
