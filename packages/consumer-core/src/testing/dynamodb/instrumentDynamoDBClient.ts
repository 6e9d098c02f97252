import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientLike } from '../../leases/dynamodb/DynamoDBLeaseStore.js';
import { LeaseAttribute } from '../../leases/dynamodb/leaseSerializer.js';

/** Lease-table requests by kind. */
export type LeaseTableRequestKind =
  | 'renew'
  | 'take'
  | 'checkpoint'
  | 'release'
  | 'handoff'
  | 'meta'
  | 'create'
  | 'scan'
  | 'get'
  | 'table'
  | 'other';

/** A DynamoDB client wrapper that counts lease-table requests by kind. */
export interface InstrumentedDynamoDBClient {
  readonly client: DynamoDBClientLike;
  /** Requests by kind (checkpoints counted apart from lease management). */
  counts(): ReadonlyMap<LeaseTableRequestKind, number>;
}

/**
 * Wraps a DynamoDB client to count the consumer's lease-table requests by kind (renewals, takes,
 * checkpoints, scans, ...), telling the kinds apart by the command and its update expression.
 */
export function instrumentDynamoDBClient(inner: DynamoDBClientLike): InstrumentedDynamoDBClient {
  const counts = new Map<LeaseTableRequestKind, number>();
  const count = (kind: LeaseTableRequestKind) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const client: DynamoDBClientLike = {
    send: ((command: { constructor: { name: string } }, options?: unknown) => {
      count(kindOf(command));
      return inner.send(command as never, options as never);
    }) as DynamoDBClientLike['send'],
  };
  return { client, counts: () => counts };
}

function kindOf(command: { constructor: { name: string } }): LeaseTableRequestKind {
  switch (command.constructor.name) {
    case 'ScanCommand':
      return 'scan';
    case 'GetItemCommand':
      return 'get';
    case 'PutItemCommand':
      return 'create';
    case 'DescribeTableCommand':
    case 'CreateTableCommand':
      return 'table';
  }
  if (!(command instanceof UpdateItemCommand)) return 'other';
  const names = Object.values(command.input.ExpressionAttributeNames ?? {});
  // The retrieval mode a worker records with each take and renewal does not change what the write is.
  const update = (command.input.UpdateExpression ?? '').replace(', #retrieval = :retrieval', '');
  if (names.includes(LeaseAttribute.Checkpoint)) return 'checkpoint';
  if (update.startsWith('SET #counter = :next, #owner')) return 'take';
  if (update.includes('REMOVE #owner')) return 'release';
  if (names.includes(LeaseAttribute.CheckpointOwner) && !update.startsWith('SET #counter = :next ADD'))
    return update === 'SET #counter = :next' ? 'renew' : 'handoff';
  if (update.includes('REMOVE #checkpointOwner')) return 'handoff';
  if (update === 'SET #counter = :next') return 'renew';
  return 'meta';
}
