import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ShardlineError } from '../../errors.js';
import type { Lease } from '../Lease.js';

/** Attribute names of the Java KCL's `DynamoDBLeaseSerializer` (docs/kcl-compatibility.md). */
export const LeaseAttribute = {
  LeaseKey: 'leaseKey',
  LeaseOwner: 'leaseOwner',
  LeaseCounter: 'leaseCounter',
  Checkpoint: 'checkpoint',
  CheckpointSubSequenceNumber: 'checkpointSubSequenceNumber',
  PendingCheckpoint: 'pendingCheckpoint',
  PendingCheckpointSubSequenceNumber: 'pendingCheckpointSubSequenceNumber',
  PendingCheckpointState: 'pendingCheckpointState',
  OwnerSwitchesSinceCheckpoint: 'ownerSwitchesSinceCheckpoint',
  ParentShardId: 'parentShardId',
  ChildShardIds: 'childShardIds',
  StartingHashKey: 'startingHashKey',
  EndingHashKey: 'endingHashKey',
  CheckpointOwner: 'checkpointOwner',
  EntityType: 'entityType',
} as const;

const A = LeaseAttribute;
const KNOWN = new Set<string>([
  A.LeaseKey,
  A.LeaseOwner,
  A.LeaseCounter,
  A.Checkpoint,
  A.CheckpointSubSequenceNumber,
  A.PendingCheckpoint,
  A.PendingCheckpointSubSequenceNumber,
  A.PendingCheckpointState,
  A.OwnerSwitchesSinceCheckpoint,
  A.ParentShardId,
  A.ChildShardIds,
  A.StartingHashKey,
  A.EndingHashKey,
  A.CheckpointOwner,
]);

/** `entityType` of lease items in KCL 3.5+ tables; other values mark non-lease items to skip. */
export const LEASE_ENTITY_TYPE = 'LEASE';

/** A lease item that cannot be read (missing key, wrong attribute type). */
export class MalformedLeaseItemError extends ShardlineError {
  /** The item's `leaseKey`, when it has one. */
  readonly leaseKey: string | undefined;

  constructor(leaseKey: string | undefined, message: string) {
    super(`Lease item ${leaseKey ?? '(without leaseKey)'} is malformed: ${message}`);
    this.leaseKey = leaseKey;
  }
}

/** Whether an item is a lease: KCL 3.5 tables also hold items whose `entityType` is not `LEASE`. */
export function isLeaseItem(item: Record<string, AttributeValue>): boolean {
  const entityType = item[A.EntityType];
  return entityType === undefined || entityType.S === LEASE_ENTITY_TYPE;
}

/**
 * Reads a lease item written by Shardline or the Java KCL (2.x or 3.x). Unknown attributes are kept
 * verbatim in `unknownAttributes`.
 *
 * @returns `undefined` for items that are not leases (`entityType` present and not `LEASE`).
 * @throws {@link MalformedLeaseItemError} when a known attribute has the wrong type.
 */
export function leaseFromItem(item: Record<string, AttributeValue>): Lease | undefined {
  if (!isLeaseItem(item)) return undefined;
  const leaseKey = item[A.LeaseKey]?.S;
  if (leaseKey === undefined) throw new MalformedLeaseItemError(undefined, 'leaseKey (S) is missing');
  const fail = (message: string): never => {
    throw new MalformedLeaseItemError(leaseKey, message);
  };
  const str = (name: string): string | undefined => {
    const value = item[name];
    if (value === undefined || value.NULL) return undefined;
    if (value.S === undefined) fail(`${name} must be of type S`);
    return value.S;
  };
  const num = (name: string): number | undefined => {
    const value = item[name];
    if (value === undefined || value.NULL) return undefined;
    const parsed = value.N === undefined ? Number.NaN : Number(value.N);
    if (!Number.isSafeInteger(parsed))
      fail(`${name} must be an integer of type N, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const set = (name: string): string[] => {
    const value = item[name];
    if (value === undefined || value.NULL) return [];
    if (value.SS === undefined) fail(`${name} must be of type SS`);
    return [...(value.SS ?? [])].sort();
  };

  const leaseCounter = num(A.LeaseCounter) ?? 0;
  const checkpoint = str(A.Checkpoint);
  if (checkpoint === undefined) fail('checkpoint (S) is missing');
  const pendingCheckpoint = str(A.PendingCheckpoint);
  const stateValue = item[A.PendingCheckpointState];
  if (stateValue !== undefined && !stateValue.NULL && stateValue.B === undefined) {
    fail('pendingCheckpointState must be of type B');
  }
  const startingHashKey = str(A.StartingHashKey);
  const endingHashKey = str(A.EndingHashKey);

  const unknownAttributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!KNOWN.has(name)) unknownAttributes[name] = value;
  }
  return {
    leaseKey,
    leaseOwner: str(A.LeaseOwner),
    leaseCounter,
    checkpoint: { sequenceNumber: checkpoint!, subSequenceNumber: num(A.CheckpointSubSequenceNumber) ?? 0 },
    pendingCheckpoint:
      pendingCheckpoint === undefined
        ? undefined
        : {
            sequenceNumber: pendingCheckpoint,
            subSequenceNumber: num(A.PendingCheckpointSubSequenceNumber) ?? 0,
          },
    pendingCheckpointState: stateValue?.B,
    ownerSwitchesSinceCheckpoint: num(A.OwnerSwitchesSinceCheckpoint) ?? 0,
    parentShardIds: set(A.ParentShardId),
    childShardIds: set(A.ChildShardIds),
    hashKeyRange:
      startingHashKey !== undefined && endingHashKey !== undefined
        ? { startingHashKey, endingHashKey }
        : undefined,
    checkpointOwner: str(A.CheckpointOwner),
    unknownAttributes,
  };
}

/**
 * The item for a lease, in the Java KCL's format: counters as N, checkpoint as S (sequence number or
 * sentinel), `leaseOwner` absent when unowned, sets only when non-empty (DynamoDB rejects empty sets and
 * the KCL never writes them). Unknown attributes are written back unchanged.
 */
export function leaseToItem(lease: Lease): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(lease.unknownAttributes)) {
    if (!KNOWN.has(name)) item[name] = value as AttributeValue;
  }
  item[A.LeaseKey] = { S: lease.leaseKey };
  if (lease.leaseOwner !== undefined) item[A.LeaseOwner] = { S: lease.leaseOwner };
  item[A.LeaseCounter] = { N: String(lease.leaseCounter) };
  item[A.Checkpoint] = { S: lease.checkpoint.sequenceNumber };
  item[A.CheckpointSubSequenceNumber] = { N: String(lease.checkpoint.subSequenceNumber) };
  item[A.OwnerSwitchesSinceCheckpoint] = { N: String(lease.ownerSwitchesSinceCheckpoint) };
  if (lease.pendingCheckpoint) {
    item[A.PendingCheckpoint] = { S: lease.pendingCheckpoint.sequenceNumber };
    item[A.PendingCheckpointSubSequenceNumber] = { N: String(lease.pendingCheckpoint.subSequenceNumber) };
  }
  if (lease.pendingCheckpointState && lease.pendingCheckpointState.length > 0) {
    item[A.PendingCheckpointState] = { B: lease.pendingCheckpointState };
  }
  if (lease.parentShardIds.length > 0) item[A.ParentShardId] = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds.length > 0) item[A.ChildShardIds] = { SS: [...lease.childShardIds] };
  if (lease.hashKeyRange) {
    item[A.StartingHashKey] = { S: lease.hashKeyRange.startingHashKey };
    item[A.EndingHashKey] = { S: lease.hashKeyRange.endingHashKey };
  }
  if (lease.checkpointOwner !== undefined) item[A.CheckpointOwner] = { S: lease.checkpointOwner };
  return item;
}
