import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import { type DynamoDBClientLike, DynamoDBLeaseStore, LeaseTableSchemaError } from '../../src/index.js';
import { kclLeaseItem, putItems } from '../helpers/kclLeaseTable.js';
import { leaseStoreContract } from '../helpers/leaseStoreContract.js';

const local = useLocalTwin();
const client = local.dynamodb;

leaseStoreContract('DynamoDBLeaseStore (dynalite)', async () => {
  const store = new DynamoDBLeaseStore({ client, tableName: uniqueName('leases') });
  await store.initialize();
  return store;
});

describe('DynamoDBLeaseStore', () => {
  it('creates a missing table on demand, and a second initialize is a no-op', async () => {
    const tableName = uniqueName('created');
    const store = new DynamoDBLeaseStore({ client, tableName });
    await store.initialize();
    await store.initialize();
    expect(await store.listLeases()).toEqual([]);
  });

  it('rejects a table with another key schema, naming what it found', async () => {
    const tableName = uniqueName('wrongkey');
    await local.createTable({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    const error = await new DynamoDBLeaseStore({ client, tableName }).initialize().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseTableSchemaError);
    expect((error as LeaseTableSchemaError).keySchema).toBe('id (HASH, N)');
    expect((error as Error).message).toContain(tableName);
  });

  it('reads KCL items, skips KCL 3.5 non-lease items, and keeps unknown attributes through writes', async () => {
    const tableName = uniqueName('kcl');
    await local.createLeaseTable(tableName);
    await putItems(client, tableName, [
      kclLeaseItem(
        'shardId-000000000001',
        {
          leaseOwner: 'java-worker',
          leaseCounter: 42,
          checkpoint: '49590338271490256608559692538361571095921575989136588898',
          checkpointSubSequenceNumber: 2,
          ownerSwitchesSinceCheckpoint: 1,
          parentShardIds: ['shardId-000000000000'],
        },
        {
          startingHashKey: { S: '0' },
          endingHashKey: { S: '170141183460469231731687303715884105727' },
          throughputKBps: { N: '12.5' },
          entityType: { S: 'LEASE' },
        },
      ),
      { leaseKey: { S: 'worker-metrics:java-worker' }, entityType: { S: 'WORKER_METRIC_STATS' } },
    ]);
    const store = new DynamoDBLeaseStore({ client, tableName });
    await store.initialize();
    const leases = await store.listLeases();
    expect(leases.map((l) => l.leaseKey)).toEqual(['shardId-000000000001']);
    const lease = leases[0]!;
    expect(lease).toMatchObject({
      leaseOwner: 'java-worker',
      leaseCounter: 42,
      checkpoint: {
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        subSequenceNumber: 2,
      },
      parentShardIds: ['shardId-000000000000'],
    });
    const taken = (await store.takeLease(lease, 'ts-worker'))!;
    await store.updateCheckpoint(taken, {
      checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
      childShardIds: ['shardId-000000000003'],
    });
    await store.releaseLease({ ...taken, leaseCounter: taken.leaseCounter + 1 });
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { leaseKey: { S: 'shardId-000000000001' } },
        ConsistentRead: true,
      }),
    );
    // What the Java KCL's DynamoDBLeaseSerializer expects: same types, sentinels, no owner attribute.
    expect(Item).toEqual({
      leaseKey: { S: 'shardId-000000000001' },
      leaseCounter: { N: '45' },
      checkpoint: { S: 'SHARD_END' },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      parentShardId: { SS: ['shardId-000000000000'] },
      childShardIds: { SS: ['shardId-000000000003'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '170141183460469231731687303715884105727' },
      throughputKBps: { N: '12.5' },
      entityType: { S: 'LEASE' },
    });
  });

  it('treats a conditional failure after a lost response as success when the write had landed', async () => {
    const tableName = uniqueName('lost');
    let dropNextUpdateResponse = false;
    let dropped = 0;
    // A client wrapper that performs the write, then fails as if the response was lost, and the
    // "retry" (the real call again) meets its own write's condition failure.
    const wrapper: DynamoDBClientLike = {
      send: (async (command: unknown, options?: unknown) => {
        if (dropNextUpdateResponse && command instanceof UpdateItemCommand) {
          dropNextUpdateResponse = false;
          dropped += 1;
          await client.send(command);
          try {
            return await client.send(command, options as never);
          } catch (error) {
            // What the SDK reports when its own retry meets the condition: the attempt count.
            (error as { $metadata: { attempts?: number } }).$metadata.attempts = 2;
            throw error;
          }
        }
        return client.send(command as never, options as never);
      }) as DynamoDBClientLike['send'],
    };
    const store = new DynamoDBLeaseStore({ client: wrapper, tableName });
    await store.initialize();
    await store.createLeaseIfNotExists({
      leaseKey: 's1',
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: undefined,
    });
    const taken = (await store.takeLease((await store.getLease('s1'))!, 'me'))!;
    dropNextUpdateResponse = true;
    const renewed = await store.renewLease(taken);
    expect(dropped).toBe(1);
    expect(renewed?.leaseCounter).toBe(2);
    dropNextUpdateResponse = true;
    const checkpointed = await store.updateCheckpoint(renewed!, {
      checkpoint: { sequenceNumber: '7', subSequenceNumber: 0 },
    });
    expect(dropped).toBe(2);
    expect(checkpointed?.leaseCounter).toBe(3);
    // A real loss stays a loss.
    expect(await store.renewLease(taken)).toBeUndefined();
  });
});
