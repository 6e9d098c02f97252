import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { awsErrorName } from '@shardline/common';
import type { ExtendedSequenceNumber } from '../../checkpoint/ExtendedSequenceNumber.js';
import { DynamoDBLeaseStore } from '../../leases/dynamodb/DynamoDBLeaseStore.js';
import { LeaseAttribute as A } from '../../leases/dynamodb/leaseSerializer.js';
import type { Lease } from '../../leases/Lease.js';
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
  destroy(): void;
}

/** Opens the lease table `tableName` with a DynamoDB client of its own. */
export function openLeaseTable(connection: AwsConnection, tableName: string): CliLeaseTable {
  const client = new DynamoDBClient({
    region: connection.region,
    ...(connection.dynamoDBEndpoint ? { endpoint: connection.dynamoDBEndpoint } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
  });
  const store = new DynamoDBLeaseStore({ client, tableName });
  return {
    listLeases: () => store.listLeases(),
    resetCheckpoint: async (lease, checkpoint) => {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { [A.LeaseKey]: { S: lease.leaseKey } },
            ConditionExpression: '#counter = :counter',
            UpdateExpression:
              'SET #counter = :next, #checkpoint = :checkpoint, #sub = :sub, #switches = :zero ' +
              'REMOVE #owner, #checkpointOwner, #pending, #pendingSub, #pendingState',
            ExpressionAttributeNames: {
              '#counter': A.LeaseCounter,
              '#checkpoint': A.Checkpoint,
              '#sub': A.CheckpointSubSequenceNumber,
              '#switches': A.OwnerSwitchesSinceCheckpoint,
              '#owner': A.LeaseOwner,
              '#checkpointOwner': A.CheckpointOwner,
              '#pending': A.PendingCheckpoint,
              '#pendingSub': A.PendingCheckpointSubSequenceNumber,
              '#pendingState': A.PendingCheckpointState,
            },
            ExpressionAttributeValues: {
              ':counter': { N: String(lease.leaseCounter) },
              ':next': { N: String(lease.leaseCounter + 1) },
              ':checkpoint': { S: checkpoint.sequenceNumber },
              ':sub': { N: String(checkpoint.subSequenceNumber) },
              ':zero': { N: '0' },
            },
          }),
        );
        return true;
      } catch (error) {
        if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    destroy: () => client.destroy(),
  };
}
