import type { AttributeValue, TableDescription } from '@aws-sdk/client-dynamodb';
import { DeadlineExceededError } from '@shardline/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DependencyError,
  type DynamoDBClientLike,
  DynamoDBLeaseStore,
  type Logger,
  ThroughputExceededError,
} from '../../src/index.js';
import { KCL_LEASE_OWNER_INDEX } from '../helpers/kclLeaseTable.js';

interface Sent {
  readonly name: string;
  readonly input: Record<string, unknown>;
}
type Answer = (input: Record<string, unknown>) => unknown;

/** An error as the SDK throws it for a 400 answer. */
function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/**
 * A DynamoDB client as a plain object: each command name answers from its queue of answers (the last
 * one repeats); a thrown value is thrown. Records every command and its input.
 */
function fakeClient(answers: Record<string, Answer[]>) {
  const sent: Sent[] = [];
  const client: DynamoDBClientLike = {
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      sent.push({ name, input: command.input });
      const queue = answers[name];
      if (!queue || queue.length === 0) throw new Error(`unexpected ${name}`);
      const answer = queue.length > 1 ? queue.shift()! : queue[0]!;
      return answer(command.input);
    }) as DynamoDBClientLike['send'],
  };
  return { client, sent, names: () => sent.map((s) => s.name) };
}

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { logger, lines, at: (level: string) => lines.filter((l) => l.level === level) };
}

/** A store on the table `leases` over `client` with the leaseOwner index on, logging to `logger` if given. */
function indexedStore(client: DynamoDBClientLike, logger?: Logger): DynamoDBLeaseStore {
  return new DynamoDBLeaseStore({
    client,
    tableName: 'leases',
    leaseOwnerIndex: true,
    ...(logger ? { logger } : {}),
  });
}

const keyItem = (leaseKey: string): Record<string, AttributeValue> => ({ leaseKey: { S: leaseKey } });
const throwing =
  (error: Error): Answer =>
  () => {
    throw error;
  };
const BACKFILLING = awsError(
  'ValidationException',
  'Cannot read from backfilling global secondary index: LeaseOwnerToLeaseKeyIndex',
);
const NO_INDEX = awsError(
  'ValidationException',
  'The table does not have the specified index: LeaseOwnerToLeaseKeyIndex',
);
/** Two pages of the filtered scan: shard 1, then shard 3. */
const scanPages: Answer[] = [
  () => ({ Items: [keyItem('shardId-1')], LastEvaluatedKey: keyItem('shardId-2') }),
  () => ({ Items: [keyItem('shardId-3')] }),
];

function table(overrides: Partial<TableDescription> = {}): { Table: TableDescription } {
  return {
    Table: {
      TableName: 'leases',
      TableStatus: 'ACTIVE',
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      ...overrides,
    },
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DynamoDBLeaseStore.listLeaseKeysOwnedBy', () => {
  it('queries the index page by page, eventually consistent, keys only', async () => {
    const fake = fakeClient({
      Query: [
        () => ({
          Items: [keyItem('shardId-1')],
          LastEvaluatedKey: { ...keyItem('shardId-1'), leaseOwner: { S: 'w' } },
        }),
        () => ({ Items: [keyItem('shardId-4')] }),
      ],
    });
    const store = indexedStore(fake.client);
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-1', 'shardId-4']);
    expect(fake.names()).toEqual(['Query', 'Query']);
    const [first, second] = fake.sent.map((s) => s.input);
    expect(first).toMatchObject({
      TableName: 'leases',
      IndexName: 'LeaseOwnerToLeaseKeyIndex',
      KeyConditionExpression: '#owner = :owner',
      ProjectionExpression: '#key',
      ExpressionAttributeNames: { '#owner': 'leaseOwner', '#key': 'leaseKey' },
      ExpressionAttributeValues: { ':owner': { S: 'w' } },
    });
    expect(first?.ConsistentRead).toBeUndefined(); // an index cannot be read consistently
    expect(first?.ExclusiveStartKey).toBeUndefined();
    expect(second?.ExclusiveStartKey).toEqual({ leaseKey: { S: 'shardId-1' }, leaseOwner: { S: 'w' } });
  });

  it('falls back to a filtered scan when the Query fails with ValidationException, warns once, retries the index after 5 minutes', async () => {
    let nowMs = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
    const fake = fakeClient({
      Query: [throwing(BACKFILLING), () => ({ Items: [keyItem('shardId-9')] })],
      Scan: scanPages.concat(scanPages, () => ({ Items: [] })),
    });
    const log = recordingLogger();
    const store = indexedStore(fake.client, log.logger);
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-1', 'shardId-3']);
    expect(fake.names()).toEqual(['Query', 'Scan', 'Scan']);
    const scan = fake.sent[1]!.input;
    expect(scan).toMatchObject({
      TableName: 'leases',
      FilterExpression: '#owner = :owner',
      ProjectionExpression: '#key',
      ExpressionAttributeNames: { '#owner': 'leaseOwner', '#key': 'leaseKey' },
      ExpressionAttributeValues: { ':owner': { S: 'w' } },
      ConsistentRead: false,
    });
    expect(scan.IndexName).toBeUndefined();
    expect(fake.sent[2]!.input.ExclusiveStartKey).toEqual(keyItem('shardId-2'));

    // Within 5 minutes: scans only, no second warning.
    nowMs += 5 * 60_000 - 1;
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-1', 'shardId-3']);
    expect(fake.names().slice(3)).toEqual(['Scan', 'Scan']);
    expect(log.at('warn')).toHaveLength(1);
    expect(log.at('warn')[0]?.message).toMatch(/missing or not ACTIVE yet/);

    // Then the index again, and it answers now: used from then on.
    nowMs += 1;
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-9']);
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-9']);
    expect(fake.names().slice(5)).toEqual(['Query', 'Query']);
    expect(log.at('info').map((l) => l.message)).toEqual([expect.stringMatching(/index is ACTIVE/)]);
    expect(log.at('warn')).toHaveLength(1);
  });

  it('counts "no such index" as missing too, and without the option never retries it nor warns', async () => {
    let nowMs = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => nowMs);
    const fake = fakeClient({
      Query: [throwing(NO_INDEX)],
      Scan: [() => ({ Items: [keyItem('shardId-5')] })],
    });
    const log = recordingLogger();
    const store = new DynamoDBLeaseStore({ client: fake.client, tableName: 'leases', logger: log.logger });
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-5']);
    nowMs += 60 * 60_000;
    expect(await store.listLeaseKeysOwnedBy('w')).toEqual(['shardId-5']);
    expect(fake.names()).toEqual(['Query', 'Scan', 'Scan']);
    expect(log.lines.filter((l) => l.level !== 'debug')).toEqual([]);
  });

  it('translates other Query failures and does not fall back', async () => {
    const throttled = fakeClient({
      Query: [throwing(awsError('ProvisionedThroughputExceededException', 'slow down'))],
    });
    const store = indexedStore(throttled.client);
    await expect(store.listLeaseKeysOwnedBy('w')).rejects.toBeInstanceOf(ThroughputExceededError);
    const invalid = fakeClient({ Query: [throwing(awsError('ValidationException', 'Something else'))] });
    const other = indexedStore(invalid.client);
    const error = await other.listLeaseKeysOwnedBy('w').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ operation: 'Query', retriable: false });
    expect(throttled.names()).toEqual(['Query']);
    expect(invalid.names()).toEqual(['Query']);
  });

  it('keeps the per-call deadline on Query and on the fallback Scan', async () => {
    const hang: Answer = () => new Promise(() => {});
    const hungQuery = fakeClient({ Query: [hang] });
    const q = new DynamoDBLeaseStore({ client: hungQuery.client, tableName: 'leases', callTimeoutMs: 30 });
    const queryError = await q.listLeaseKeysOwnedBy('w').catch((e: unknown) => e);
    expect(queryError).toBeInstanceOf(DependencyError);
    expect(queryError).toMatchObject({ operation: 'Query', retriable: true });
    expect((queryError as Error).cause).toBeInstanceOf(DeadlineExceededError);

    const hungScan = fakeClient({ Query: [throwing(NO_INDEX)], Scan: [hang] });
    const s = new DynamoDBLeaseStore({ client: hungScan.client, tableName: 'leases', callTimeoutMs: 30 });
    const scanError = await s.listLeaseKeysOwnedBy('w').catch((e: unknown) => e);
    expect(scanError).toMatchObject({ operation: 'Scan', retriable: true });
    expect((scanError as Error).cause).toBeInstanceOf(DeadlineExceededError);
  });

  it('returns no keys for an empty owner without a call', async () => {
    const fake = fakeClient({});
    const store = indexedStore(fake.client);
    expect(await store.listLeaseKeysOwnedBy('')).toEqual([]);
    expect(fake.sent).toEqual([]);
  });
});

describe('DynamoDBLeaseStore.initialize with leaseOwnerIndex', () => {
  /** The attributes the index adds to a table's definitions, in the order the store sends them. */
  const INDEX_ATTRIBUTES = [
    { AttributeName: 'leaseOwner', AttributeType: 'S' },
    { AttributeName: 'leaseKey', AttributeType: 'S' },
  ];

  it('creates a missing table with the index (on demand)', async () => {
    const fake = fakeClient({
      DescribeTable: [
        throwing(awsError('ResourceNotFoundException', 'no table')),
        () =>
          table({
            GlobalSecondaryIndexes: [{ ...KCL_LEASE_OWNER_INDEX, IndexStatus: 'ACTIVE' }] as never,
          }),
      ],
      CreateTable: [() => ({})],
      Query: [() => ({ Items: [] })],
    });
    const store = indexedStore(fake.client);
    await store.initialize();
    expect(fake.sent[1]).toEqual({
      name: 'CreateTable',
      input: {
        TableName: 'leases',
        AttributeDefinitions: INDEX_ATTRIBUTES,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [KCL_LEASE_OWNER_INDEX],
      },
    });
    await store.listLeaseKeysOwnedBy('w');
    expect(fake.names()).toEqual(['DescribeTable', 'CreateTable', 'DescribeTable', 'Query']);
  });

  it('adds the index to an existing table by UpdateTable without waiting; scans until it is ACTIVE', async () => {
    const fake = fakeClient({
      DescribeTable: [() => table()],
      UpdateTable: [() => ({})],
      Scan: [() => ({ Items: [] })],
    });
    const log = recordingLogger();
    const store = indexedStore(fake.client, log.logger);
    await store.initialize();
    expect(fake.sent[1]).toEqual({
      name: 'UpdateTable',
      input: {
        TableName: 'leases',
        AttributeDefinitions: INDEX_ATTRIBUTES,
        GlobalSecondaryIndexUpdates: [{ Create: KCL_LEASE_OWNER_INDEX }],
      },
    });
    expect(log.at('info')).toHaveLength(1);
    await store.listLeaseKeysOwnedBy('w');
    expect(fake.names()).toEqual(['DescribeTable', 'UpdateTable', 'Scan']);
    expect(log.at('warn')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ updateTable: 'requested' }) }),
    ]);
  });

  it('gives a provisioned table index the table capacity, as the KCL 3.x does', async () => {
    const fake = fakeClient({
      DescribeTable: [
        () =>
          table({
            BillingModeSummary: undefined,
            ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 7 },
          }),
      ],
      UpdateTable: [() => ({})],
    });
    await indexedStore(fake.client).initialize();
    expect(fake.sent[1]?.input.GlobalSecondaryIndexUpdates).toEqual([
      {
        Create: {
          ...KCL_LEASE_OWNER_INDEX,
          ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 7 },
        },
      },
    ]);
  });

  it.each([
    ['ResourceInUseException', 'debug', 'Attempt to change a resource which is still in use'],
    ['LimitExceededException', 'debug', 'Subscriber limit exceeded: only 1 online index can be created'],
    ['ValidationException', 'debug', 'Attempting to create an index which already exists'],
    ['AccessDeniedException', 'warn', 'not authorized to perform: dynamodb:UpdateTable'],
  ])('initialize succeeds when UpdateTable fails with %s (logged at %s)', async (name, level, message) => {
    const fake = fakeClient({
      DescribeTable: [() => table()],
      UpdateTable: [throwing(awsError(name, message))],
    });
    const log = recordingLogger();
    const store = indexedStore(fake.client, log.logger);
    await store.initialize();
    expect(log.at(level).some((l) => (l.fields?.error as Error | undefined)?.name === name)).toBe(true);
    if (level === 'debug') expect(log.at('warn')).toEqual([]);
  });

  it('asks nothing while the index is being created (CREATING), and nothing without the option', async () => {
    const creating = fakeClient({
      DescribeTable: [
        () =>
          table({ GlobalSecondaryIndexes: [{ ...KCL_LEASE_OWNER_INDEX, IndexStatus: 'CREATING' }] as never }),
      ],
      Scan: [() => ({ Items: [] })],
    });
    const store = indexedStore(creating.client);
    await store.initialize();
    await store.listLeaseKeysOwnedBy('w');
    expect(creating.names()).toEqual(['DescribeTable', 'Scan']);

    const off = fakeClient({ DescribeTable: [() => table()], Scan: [() => ({ Items: [] })] });
    const plain = new DynamoDBLeaseStore({ client: off.client, tableName: 'leases' });
    await plain.initialize();
    await plain.listLeaseKeysOwnedBy('w');
    expect(off.names()).toEqual(['DescribeTable', 'Scan']);
  });
});
