import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { http1RequestHandler } from '@shardline/common';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ExtendedSequenceNumber } from '../../checkpoint/ExtendedSequenceNumber.js';
import { CONSUMER_DEFAULTS } from '../../config/resolveConsumerConfig.js';
import { DynamoDBLeaseStore } from '../../leases/dynamodb/DynamoDBLeaseStore.js';
import type { Lease } from '../../leases/Lease.js';
import type { StreamIdentity } from '../../leases/streamIdentity.js';
import type { AwsConnection } from '../connection.js';

/** The lease table as the CLI sees it: listing, and the fenced reset of a checkpoint. */
export interface CliLeaseTable {
  listLeases(): Promise<Lease[]>;
  /**
   * Sets a lease's checkpoint and removes its owner, pending checkpoint and hand-off, on condition
   * that its counter is still `lease.leaseCounter` (no worker wrote since it was watched).
   * @returns false when the counter moved.
   */
  resetCheckpoint(lease: Lease, checkpoint: ExtendedSequenceNumber): Promise<boolean>;
  /** Stamps a lease with the stream it now belongs to (the stream identity guard's attributes). */
  stampStreamIdentity(leaseKey: string, identity: StreamIdentity): Promise<boolean>;
  destroy(): void;
}

/**
 * Opens the lease table `tableName` with a DynamoDB client of its own (Shardline's request timeouts);
 * every call goes through the store, under the consumer's lease-table deadline.
 */
export function openLeaseTable(connection: AwsConnection, tableName: string): CliLeaseTable {
  const client = new DynamoDBClient({
    region: connection.region,
    requestHandler: http1RequestHandler(NodeHttpHandler),
    ...(connection.dynamoDBEndpoint ? { endpoint: connection.dynamoDBEndpoint } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
  });
  const store = new DynamoDBLeaseStore({
    client,
    tableName,
    callTimeoutMs: CONSUMER_DEFAULTS.timeouts.leaseTableCallMs,
  });
  return {
    listLeases: () => store.listLeases(),
    resetCheckpoint: (lease, checkpoint) => store.resetCheckpoint(lease, checkpoint),
    stampStreamIdentity: (leaseKey, identity) =>
      store.updateLeaseMeta(leaseKey, { streamIdentity: identity }),
    destroy: () => client.destroy(),
  };
}
