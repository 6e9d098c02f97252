import {
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { uniqueName } from '@shardline/local';
import { useLocalTwin } from '@shardline/local/vitest';
import { describe, expect, it } from 'vitest';
import { type DynamoDBClientLike, DynamoDBLeaseStore, type Logger } from '../../src/index.js';
import { KCL_LEASE_OWNER_INDEX, kclLeaseItem, putItems } from '../helpers/kclLeaseTable.js';
import { leaseStoreContract } from '../helpers/leaseStoreContract.js';

const local = useLocalTwin();
const client = local.dynamodb;

// The contract through the index (the run in dynamoDBLeaseStore.test.ts has no index: the scan path).
leaseStoreContract('DynamoDBLeaseStore with the leaseOwner index (dynalite)', async () => {
  const store = new DynamoDBLeaseStore({ client, tableName: uniqueName('gsi'), leaseOwnerIndex: true });
  await store.initialize();
  return store;
});

/** A client that records the name of every command it passes on, and a logger that records lines. */
function recorded() {
  const commands: string[] = [];
  const wrapped: DynamoDBClientLike = {
    send: ((command: { constructor: { name: string } }, options?: unknown) => {
      commands.push(command.constructor.name.replace(/Command$/, ''));
      return (client as DynamoDBClient).send(command as never, options as never);
    }) as DynamoDBClientLike['send'],
  };
  const lines: { level: string; message: string }[] = [];
  const log =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { wrapped, commands, lines, logger };
}

/** An initialized store on `tableName` through a {@link recorded} client and logger. */
async function recordedStore(tableName: string, options: { leaseOwnerIndex?: boolean } = {}) {
  const r = recorded();
  const store = new DynamoDBLeaseStore({ client: r.wrapped, tableName, logger: r.logger, ...options });
  await store.initialize();
  return { ...r, store };
}

/** Writes leases owned as given (owner undefined: no `leaseOwner` attribute), as another worker would. */
async function putLeases(tableName: string, owners: Record<string, string | undefined>): Promise<void> {
  await putItems(
    client,
    tableName,
    Object.entries(owners).map(([leaseKey, leaseOwner]) =>
      kclLeaseItem(leaseKey, { leaseOwner, leaseCounter: 1 }),
    ),
  );
}

/**
 * Creates, by hand, a lease table (key `leaseKey`, on demand) whose one global secondary index is
 * `index`, keyed on the string attribute `indexAttribute`.
 */
async function createIndexedTable(
  tableName: string,
  indexAttribute: string,
  index: GlobalSecondaryIndex,
): Promise<void> {
  await local.createTable({
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'leaseKey', AttributeType: 'S' },
      { AttributeName: indexAttribute, AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    GlobalSecondaryIndexes: [index],
  });
}

const OWNERS = {
  'shardId-000000000000': 'worker-a',
  'shardId-000000000001': 'worker-b',
  'shardId-000000000002': 'worker-a',
  'shardId-000000000003': undefined,
};

describe('DynamoDBLeaseStore leaseOwner index', () => {
  it('creates a new table with the KCL 3.x index and reads owned leases through it', async () => {
    const tableName = uniqueName('gsinew');
    const r = await recordedStore(tableName, { leaseOwnerIndex: true });
    const { store } = r;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'leaseKey', AttributeType: 'S' },
        { AttributeName: 'leaseOwner', AttributeType: 'S' },
      ]),
    );
    expect(Table?.GlobalSecondaryIndexes).toHaveLength(1);
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      ...KCL_LEASE_OWNER_INDEX,
      IndexStatus: 'ACTIVE',
    });
    await putLeases(tableName, OWNERS);
    expect((await store.listLeaseKeysOwnedBy('worker-a')).sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000002',
    ]);
    expect(await store.listLeaseKeysOwnedBy('worker-b')).toEqual(['shardId-000000000001']);
    expect(await store.listLeaseKeysOwnedBy('nobody')).toEqual([]);
    // DescribeTable until ACTIVE (as often as the emulator takes), then only Query.
    expect(r.commands.filter((c) => c !== 'DescribeTable')).toEqual([
      'CreateTable',
      'Query',
      'Query',
      'Query',
    ]);
    expect(r.commands.at(-4)).toBe('DescribeTable');
    expect(r.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('asks for the index on an existing table without it, and meanwhile finds owned leases by scanning', async () => {
    const tableName = uniqueName('gsiold');
    await local.createLeaseTable(tableName);
    await putLeases(tableName, OWNERS);
    const r = await recordedStore(tableName, { leaseOwnerIndex: true });
    const { store } = r;
    // dynalite refuses an on-demand index Create (it wants ProvisionedThroughput, which DynamoDB refuses
    // on an on-demand table) and ignores a provisioned one (docs/local-emulators.md): the refused path.
    expect(r.commands).toEqual(['DescribeTable', 'UpdateTable']);
    expect(r.lines.filter((l) => l.level !== 'debug').map((l) => l.message)).toEqual([
      expect.stringMatching(/^Adding the leaseOwner index/),
      expect.stringMatching(/^Could not add the leaseOwner index/),
    ]);
    expect((await store.listLeaseKeysOwnedBy('worker-a')).sort()).toEqual([
      'shardId-000000000000',
      'shardId-000000000002',
    ]);
    expect(await store.listLeaseKeysOwnedBy('worker-b')).toEqual(['shardId-000000000001']);
    // No Query before the retry interval; one warning about scanning however often it scans.
    expect(r.commands.slice(2)).toEqual(['Scan', 'Scan']);
    expect(r.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      expect.stringMatching(/^Could not add the leaseOwner index/),
      expect.stringMatching(/^The leaseOwner index is missing or not ACTIVE yet/),
    ]);
    // A second worker starting on the same table asks again; harmless.
    await new DynamoDBLeaseStore({ client, tableName, leaseOwnerIndex: true }).initialize();
  });

  it('without the option: no UpdateTable, owned leases by a quiet scan', async () => {
    const tableName = uniqueName('gsioff');
    await local.createLeaseTable(tableName);
    await putLeases(tableName, OWNERS);
    const r = await recordedStore(tableName);
    const { store } = r;
    expect(await store.listLeaseKeysOwnedBy('worker-b')).toEqual(['shardId-000000000001']);
    expect(r.commands).toEqual(['DescribeTable', 'Scan']);
    expect(r.lines.filter((l) => l.level !== 'debug')).toEqual([]);
  });

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'accepts a table whose index was created by hand (KCL 3.x definition) %s the option, and queries it',
    async (_, leaseOwnerIndex) => {
      const tableName = uniqueName('gsihand');
      await createIndexedTable(tableName, 'leaseOwner', KCL_LEASE_OWNER_INDEX);
      await putLeases(tableName, OWNERS);
      const r = await recordedStore(tableName, { leaseOwnerIndex });
      const { store } = r;
      expect((await store.listLeaseKeysOwnedBy('worker-a')).sort()).toEqual([
        'shardId-000000000000',
        'shardId-000000000002',
      ]);
      expect(r.commands).toEqual(['DescribeTable', 'Query']);
      expect(r.lines.filter((l) => l.level === 'warn')).toEqual([]);
    },
  );

  it('scans when an index of that name has other keys, and says so', async () => {
    const tableName = uniqueName('gsiwrong');
    await createIndexedTable(tableName, 'checkpoint', {
      IndexName: 'LeaseOwnerToLeaseKeyIndex',
      KeySchema: [{ AttributeName: 'checkpoint', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    });
    await putLeases(tableName, OWNERS);
    const r = await recordedStore(tableName, { leaseOwnerIndex: true });
    const { store } = r;
    expect(await store.listLeaseKeysOwnedBy('worker-b')).toEqual(['shardId-000000000001']);
    expect(r.commands).toEqual(['DescribeTable', 'Scan']);
    expect(r.lines.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(1);
  });
});
