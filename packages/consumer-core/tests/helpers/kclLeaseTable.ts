import { type AttributeValue, type GlobalSecondaryIndex, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientLike } from '../../src/index.js';

/** The fields of a lease item as the Java KCL writes them; what is left out takes the value of a new lease. */
export interface KclLeaseFields {
  /** Absent: the attribute is not written (an unowned lease). */
  readonly leaseOwner?: string;
  /** @defaultValue 0 */
  readonly leaseCounter?: number;
  /** @defaultValue 'TRIM_HORIZON' */
  readonly checkpoint?: string;
  /** @defaultValue 0 */
  readonly checkpointSubSequenceNumber?: number;
  /** @defaultValue 0 */
  readonly ownerSwitchesSinceCheckpoint?: number;
  /** Absent: no `parentShardId` attribute. */
  readonly parentShardIds?: readonly string[];
  /** Absent: no `childShardIds` attribute. */
  readonly childShardIds?: readonly string[];
}

/**
 * A lease item exactly as the KCL 2.x/3.x `DynamoDBLeaseSerializer` writes it
 * (docs/kcl-compatibility.md): numbers as `N` strings, shard lists as string sets, no `leaseOwner`
 * attribute when unowned. `extra` attributes (`entityType`, `throughputKBps`, hash keys,
 * `checkpointOwner`, ...) are written as given.
 */
export function kclLeaseItem(
  leaseKey: string,
  fields: KclLeaseFields = {},
  extra: Record<string, AttributeValue> = {},
): Record<string, AttributeValue> {
  return {
    leaseKey: { S: leaseKey },
    ...(fields.leaseOwner === undefined ? {} : { leaseOwner: { S: fields.leaseOwner } }),
    leaseCounter: { N: String(fields.leaseCounter ?? 0) },
    checkpoint: { S: fields.checkpoint ?? 'TRIM_HORIZON' },
    checkpointSubSequenceNumber: { N: String(fields.checkpointSubSequenceNumber ?? 0) },
    ownerSwitchesSinceCheckpoint: { N: String(fields.ownerSwitchesSinceCheckpoint ?? 0) },
    ...(fields.parentShardIds === undefined ? {} : { parentShardId: { SS: [...fields.parentShardIds] } }),
    ...(fields.childShardIds === undefined ? {} : { childShardIds: { SS: [...fields.childShardIds] } }),
    ...extra,
  };
}

/** Writes `items` to `tableName` one `PutItem` at a time, in order, as another worker (or the Java KCL) would. */
export async function putItems(
  client: DynamoDBClientLike,
  tableName: string,
  items: readonly Record<string, AttributeValue>[],
): Promise<void> {
  for (const Item of items) await client.send(new PutItemCommand({ TableName: tableName, Item }));
}

/** The KCL 3.x leaseOwner index (amazon-kinesis-client v3.5.1, DynamoDBLeaseRefresher / DynamoDBLeaseSerializer). */
export const KCL_LEASE_OWNER_INDEX: GlobalSecondaryIndex = {
  IndexName: 'LeaseOwnerToLeaseKeyIndex',
  KeySchema: [
    { AttributeName: 'leaseOwner', KeyType: 'HASH' },
    { AttributeName: 'leaseKey', KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' },
};
