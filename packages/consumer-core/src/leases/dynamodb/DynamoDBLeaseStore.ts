import {
  type AttributeDefinition,
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandOutput,
  type TableDescription,
  UpdateItemCommand,
  type UpdateItemCommandInput,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName, clientWithDeadline, sleep } from '@shardline/common';
import type { ExtendedSequenceNumber } from '../../checkpoint/ExtendedSequenceNumber.js';
import { LeaseTableSchemaError, ShardlineError } from '../../errors.js';
import type { Logger } from '../../internal/logger.js';
import { silentLogger } from '../../internal/logger.js';
import type { Lease, NewLease } from '../Lease.js';
import { leaseFromNew } from '../Lease.js';
import type {
  CheckpointUpdate,
  LeaseMetaUpdate,
  LeaseStore,
  PrepareCheckpointUpdate,
} from '../LeaseStore.js';
import { TAKE_HINT_ATTRIBUTE } from '../LeaseStore.js';
import { RETRIEVAL_ATTRIBUTE } from '../retrievalAttribute.js';
import {
  formatFailurePosition,
  ShardFailureAttribute,
  type ShardFailureRecord,
  withoutShardFailure,
} from '../shardFailure.js';
import { streamIdentityAttributes } from '../streamIdentity.js';
import { translateDynamoDBError } from './awsErrors.js';
import {
  LeaseAttribute as A,
  leaseFromItem,
  leaseToItem,
  MalformedLeaseItemError,
} from './leaseSerializer.js';

/** The failure attributes (see `shardFailure.ts`) a checkpoint, a skip or a reset removes. */
const FAILURE_NAMES: Record<string, string> = {
  '#failureCount': ShardFailureAttribute.FailureCount,
  '#failedAt': ShardFailureAttribute.FailedAt,
  '#lastFailure': ShardFailureAttribute.LastFailure,
  '#halted': ShardFailureAttribute.Halted,
};
const FAILURE_REMOVE = '#failureCount, #failedAt, #lastFailure, #halted';

/**
 * The KCL 3.x `leaseOwner` index, exactly as `DynamoDBLeaseRefresher.createLeaseOwnerToLeaseKeyIndexIfNotExists`
 * and `DynamoDBLeaseSerializer.getWorkerIdToLeaseKeyIndex*` (KCL v3.5.1) define it: a table shared with
 * a KCL 3.x fleet has this very index.
 */
const LEASE_OWNER_INDEX = {
  IndexName: 'LeaseOwnerToLeaseKeyIndex',
  KeySchema: [
    { AttributeName: A.LeaseOwner, KeyType: 'HASH' },
    { AttributeName: A.LeaseKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' },
} as const satisfies GlobalSecondaryIndex;
const LEASE_OWNER_INDEX_ATTRIBUTES: AttributeDefinition[] = [
  { AttributeName: A.LeaseOwner, AttributeType: 'S' },
  { AttributeName: A.LeaseKey, AttributeType: 'S' },
];

/** How long a worker that found the `leaseOwner` index missing scans before it tries the index again. */
const INDEX_RETRY_MS = 5 * 60_000;

/** The part of a DynamoDB client the library uses: any `DynamoDBClient` (or a wrapper with `send`). */
export type DynamoDBClientLike = Pick<DynamoDBClient, 'send'>;

/** Options of {@link DynamoDBLeaseStore}. */
export interface DynamoDBLeaseStoreOptions {
  /** The user's client; never destroyed by the library. */
  readonly client: DynamoDBClientLike;
  /** The lease table. */
  readonly tableName: string;
  /** Where malformed items and table creation are reported. @defaultValue silent */
  readonly logger?: Logger;
  /** How long `initialize()` waits for a new table to become ACTIVE. @defaultValue 120000 */
  readonly tableActiveTimeoutMs?: number;
  /**
   * The deadline of each call to the table (`Scan` page, `Query` page, `GetItem`, `PutItem`,
   * `UpdateItem`, `DeleteItem`, `DescribeTable`, `CreateTable`, `UpdateTable`), SDK retries included: a call still unanswered then is
   * aborted and fails with a retriable `DeadlineExceededError` (inside a `DependencyError`). Renewals
   * and checkpoints are further bounded by the time their lease has left. @defaultValue 5000
   */
  readonly callTimeoutMs?: number;
  /**
   * Written to `shardlineRetrieval` with every take and renewal (`polling` or `fanOut:<consumerName>`),
   * so `shardline status` shows how each application reads. @defaultValue not written
   */
  readonly retrieval?: string;
  /**
   * Whether the lease table should have the KCL 3.x `leaseOwner` index (`LeaseOwnerToLeaseKeyIndex`:
   * `leaseOwner` HASH, `leaseKey` RANGE, keys only), which {@link DynamoDBLeaseStore.listLeaseKeysOwnedBy}
   * reads. When `true`, `initialize()` creates a missing table with the index, and adds the index to an
   * existing table without it (`UpdateTable`, not awaited: DynamoDB backfills it in the background,
   * minutes on a large table; the store scans until it is ACTIVE). Needs `dynamodb:UpdateTable` on
   * existing tables; when that is refused the store logs a warning and keeps scanning. The index costs
   * index writes only when a lease's owner changes (renewals and checkpoints change no index key) and
   * storage for its keys; it changes no item, and the Java KCL 2.x ignores it.
   * @defaultValue false
   */
  readonly leaseOwnerIndex?: boolean;
}

/** What the store knows of the `leaseOwner` index: not yet looked at, usable, or missing (scan instead). */
type IndexState = 'unknown' | 'active' | 'missing';

/**
 * The lease table on DynamoDB, in the Java KCL 2.x format, with the KCL's conditional writes expressed
 * as condition expressions. Creates the table (on-demand billing) when it is missing.
 */
export class DynamoDBLeaseStore implements LeaseStore {
  readonly #client: DynamoDBClientLike;
  readonly #tableName: string;
  readonly #logger: Logger;
  readonly #tableActiveTimeoutMs: number;
  readonly #retrieval: string | undefined;
  readonly #leaseOwnerIndex: boolean;
  #indexState: IndexState = 'unknown';
  /** When (on `performance.now()`) a store that found the index missing tries it again. */
  #indexRetryAtMs = 0;
  #indexWarned = false;
  /** What `initialize()` did about a missing index: reported with the warning about scanning. */
  #indexRequest: 'not requested' | 'requested' | 'refused' = 'not requested';

  constructor(options: DynamoDBLeaseStoreOptions) {
    // Every send gets its own deadline: the user's client may have no request timeout at all, and a
    // handler's timeout stops counting once response headers arrive.
    this.#client = clientWithDeadline(options.client, options.callTimeoutMs ?? 5_000);
    this.#tableName = options.tableName;
    this.#logger = options.logger ?? silentLogger;
    this.#tableActiveTimeoutMs = options.tableActiveTimeoutMs ?? 120_000;
    this.#retrieval = options.retrieval;
    this.#leaseOwnerIndex = options.leaseOwnerIndex ?? false;
  }

  /** `, #retrieval = :retrieval` and its name and value, when this store records the retrieval mode. */
  #retrievalSet(): {
    set: string;
    names: Record<string, string>;
    values: Record<string, AttributeValue>;
    attributes: Record<string, unknown>;
  } {
    if (this.#retrieval === undefined) return { set: '', names: {}, values: {}, attributes: {} };
    const value = { S: this.#retrieval };
    return {
      set: ', #retrieval = :retrieval',
      names: { '#retrieval': RETRIEVAL_ATTRIBUTE },
      values: { ':retrieval': value },
      attributes: { [RETRIEVAL_ATTRIBUTE]: value },
    };
  }

  /** The table's name. */
  get tableName(): string {
    return this.#tableName;
  }

  async initialize(signal?: AbortSignal): Promise<void> {
    let table = await this.#describe(signal);
    if (table === undefined) {
      this.#logger.info('Creating the lease table (on-demand billing)', {
        tableName: this.#tableName,
        ...(this.#leaseOwnerIndex ? { index: LEASE_OWNER_INDEX.IndexName } : {}),
      });
      try {
        await this.#client.send(
          new CreateTableCommand({
            TableName: this.#tableName,
            AttributeDefinitions: this.#leaseOwnerIndex
              ? LEASE_OWNER_INDEX_ATTRIBUTES
              : [{ AttributeName: A.LeaseKey, AttributeType: 'S' }],
            KeySchema: [{ AttributeName: A.LeaseKey, KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
            // The KCL 3.x adds the index by UpdateTable right after creating the table; creating it with
            // the table gives the same table without a backfill.
            ...(this.#leaseOwnerIndex ? { GlobalSecondaryIndexes: [LEASE_OWNER_INDEX] } : {}),
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        // Another worker created it at the same moment: fine, check its schema below.
        if (awsErrorName(error) !== 'ResourceInUseException')
          throw translateDynamoDBError('CreateTable', error);
      }
      table = await this.#describe(signal);
    }
    if (table) this.#checkSchema(table);
    const deadline = performance.now() + this.#tableActiveTimeoutMs;
    let delayMs = 50;
    while (table?.TableStatus !== 'ACTIVE') {
      if (performance.now() > deadline) {
        throw new ShardlineError(
          `Lease table ${this.#tableName} is not ACTIVE after ${this.#tableActiveTimeoutMs} ms (status ${table?.TableStatus}).`,
          { retriable: true },
        );
      }
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, 1_000);
      table = await this.#describe(signal);
    }
    await this.#noteIndex(table, signal);
  }

  /**
   * Records whether the table's `leaseOwner` index can be read, and with {@link
   * DynamoDBLeaseStoreOptions.leaseOwnerIndex} asks DynamoDB to add a missing one (without waiting).
   */
  async #noteIndex(table: TableDescription, signal: AbortSignal | undefined): Promise<void> {
    const index = table.GlobalSecondaryIndexes?.find((i) => i.IndexName === LEASE_OWNER_INDEX.IndexName);
    if (index && !sameKeys(index.KeySchema ?? [], LEASE_OWNER_INDEX.KeySchema)) {
      // Not ours to fix: Query would fail on it, so scan (and never try to create it again).
      this.#indexState = 'missing';
      this.#indexRetryAtMs = Number.POSITIVE_INFINITY;
      this.#logger.warn('The lease table has an index of this name with other keys; scanning instead', {
        tableName: this.#tableName,
        index: LEASE_OWNER_INDEX.IndexName,
        keySchema: (index.KeySchema ?? []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(', '),
      });
      return;
    }
    if (index?.IndexStatus === 'ACTIVE') {
      this.#indexState = 'active';
      return;
    }
    // Missing, or CREATING / backfilling (a Query is refused until it is ACTIVE).
    this.#indexState = 'missing';
    this.#indexRetryAtMs = this.#leaseOwnerIndex
      ? performance.now() + INDEX_RETRY_MS
      : Number.POSITIVE_INFINITY;
    if (index || !this.#leaseOwnerIndex) return;
    this.#logger.info(
      'Adding the leaseOwner index to the lease table (DynamoDB backfills it in the background)',
      {
        tableName: this.#tableName,
        index: LEASE_OWNER_INDEX.IndexName,
      },
    );
    this.#indexRequest = 'requested';
    try {
      const onDemand = table.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST';
      const throughput = table.ProvisionedThroughput;
      await this.#client.send(
        new UpdateTableCommand({
          TableName: this.#tableName,
          AttributeDefinitions: LEASE_OWNER_INDEX_ATTRIBUTES,
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                ...LEASE_OWNER_INDEX,
                // As the KCL 3.x: a provisioned table's index gets the table's capacity.
                ...(onDemand
                  ? {}
                  : {
                      ProvisionedThroughput: {
                        ReadCapacityUnits: throughput?.ReadCapacityUnits ?? 1,
                        WriteCapacityUnits: throughput?.WriteCapacityUnits ?? 1,
                      },
                    }),
              },
            },
          ],
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (signal?.aborted) throw translateDynamoDBError('UpdateTable', error);
      // Several workers ask at once: the index is being created (ResourceInUseException,
      // LimitExceededException: one index creation per table at a time) or already exists.
      const name = awsErrorName(error);
      const raced =
        name === 'ResourceInUseException' ||
        name === 'LimitExceededException' ||
        (name === 'ValidationException' && /already exists/i.test(errorMessage(error)));
      const fields = { tableName: this.#tableName, index: LEASE_OWNER_INDEX.IndexName, error };
      if (raced) {
        this.#logger.debug('Another worker is adding the leaseOwner index', fields);
      } else {
        // No dynamodb:UpdateTable permission, ...: the store keeps scanning, correct but costlier.
        this.#indexRequest = 'refused';
        this.#logger.warn('Could not add the leaseOwner index; owned leases are found by scanning', fields);
      }
    }
  }

  /**
   * Keys of the leases owned by `owner`, read from the KCL 3.x `leaseOwner` index
   * (`LeaseOwnerToLeaseKeyIndex`, `Query`, paginated). Eventually consistent (an index cannot be read
   * consistently): a key may be missing for a moment after a take, or name a lease that has just moved;
   * read the lease with {@link DynamoDBLeaseStore.getLease} before acting on it.
   *
   * When the table has no ACTIVE index (missing, or still backfilling after `initialize()` asked for
   * it), the keys come from a `Scan` of the table filtered on `leaseOwner` (eventually consistent too):
   * the same answer at the cost of reading the whole table. With
   * {@link DynamoDBLeaseStoreOptions.leaseOwnerIndex} the store warns once and tries the index again at
   * most every 5 minutes; without it, it uses an index it found ACTIVE at `initialize()` (a table a
   * KCL 3.x fleet created has one) and otherwise scans, quietly.
   * @throws `DependencyError` (`ThroughputExceededError` when throttled) when DynamoDB fails.
   */
  async listLeaseKeysOwnedBy(owner: string, signal?: AbortSignal): Promise<string[]> {
    // No lease has an empty owner (the attribute is absent when unassigned; an index key cannot be empty).
    if (owner === '') return [];
    const useIndex =
      this.#indexState !== 'missing' || (this.#leaseOwnerIndex && performance.now() >= this.#indexRetryAtMs);
    if (useIndex) {
      try {
        const keys = await this.#queryOwnerIndex(owner, signal);
        if (this.#indexState === 'missing') {
          this.#logger.info('The leaseOwner index is ACTIVE; reading owned leases through it', {
            tableName: this.#tableName,
            index: LEASE_OWNER_INDEX.IndexName,
          });
        }
        this.#indexState = 'active';
        return keys;
      } catch (error) {
        if (!isMissingIndex(error)) throw translateDynamoDBError('Query', error);
        this.#indexState = 'missing';
        this.#indexRetryAtMs = this.#leaseOwnerIndex
          ? performance.now() + INDEX_RETRY_MS
          : Number.POSITIVE_INFINITY;
        this.#logger.debug('The leaseOwner index cannot be read; scanning the lease table instead', {
          tableName: this.#tableName,
          index: LEASE_OWNER_INDEX.IndexName,
          error,
        });
      }
    }
    if (this.#leaseOwnerIndex && !this.#indexWarned) {
      this.#indexWarned = true;
      this.#logger.warn(
        'The leaseOwner index is missing or not ACTIVE yet: scanning the lease table instead, and ' +
          'trying the index again every 5 minutes',
        { tableName: this.#tableName, index: LEASE_OWNER_INDEX.IndexName, updateTable: this.#indexRequest },
      );
    }
    return this.#scanOwned(owner, signal);
  }

  #queryOwnerIndex(owner: string, signal: AbortSignal | undefined): Promise<string[]> {
    // Not translated here: the caller tells a missing index from a failure.
    return collectLeaseKeys((startKey) =>
      this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: LEASE_OWNER_INDEX.IndexName,
          KeyConditionExpression: '#owner = :owner',
          ProjectionExpression: '#key',
          ExpressionAttributeNames: { '#owner': A.LeaseOwner, '#key': A.LeaseKey },
          ExpressionAttributeValues: { ':owner': { S: owner } },
          ExclusiveStartKey: startKey,
        }),
        { abortSignal: signal },
      ),
    );
  }

  #scanOwned(owner: string, signal: AbortSignal | undefined): Promise<string[]> {
    return collectLeaseKeys(async (startKey) => {
      try {
        return await this.#client.send(
          new ScanCommand({
            TableName: this.#tableName,
            FilterExpression: '#owner = :owner',
            ProjectionExpression: '#key',
            ExpressionAttributeNames: { '#owner': A.LeaseOwner, '#key': A.LeaseKey },
            ExpressionAttributeValues: { ':owner': { S: owner } },
            // As eventually consistent as the index it stands in for, at half the read units.
            ConsistentRead: false,
            ExclusiveStartKey: startKey,
          }),
          { abortSignal: signal },
        );
      } catch (error) {
        throw translateDynamoDBError('Scan', error);
      }
    });
  }

  async listLeases(signal?: AbortSignal): Promise<Lease[]> {
    const leases: Lease[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      let page: ScanCommandOutput;
      try {
        page = await this.#client.send(
          new ScanCommand({ TableName: this.#tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
          { abortSignal: signal },
        );
      } catch (error) {
        throw translateDynamoDBError('Scan', error);
      }
      for (const item of page.Items ?? []) {
        const lease = this.#read(item);
        if (lease) leases.push(lease);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return leases;
  }

  async getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined> {
    try {
      const { Item } = await this.#client.send(
        new GetItemCommand({
          TableName: this.#tableName,
          Key: { [A.LeaseKey]: { S: leaseKey } },
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      );
      return Item ? this.#read(Item) : undefined;
    } catch (error) {
      throw translateDynamoDBError('GetItem', error);
    }
  }

  async createLeaseIfNotExists(lease: NewLease, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: leaseToItem(leaseFromNew(lease)),
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': A.LeaseKey },
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw translateDynamoDBError('PutItem', error);
    }
  }

  async renewLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined> {
    const next = lease.leaseCounter + 1;
    const handingOff = lease.checkpointOwner !== undefined;
    const retrieval = this.#retrievalSet();
    let hint: AttributeValue | undefined;
    const ok = await this.#update(
      'renew',
      {
        Key: this.#key(lease.leaseKey),
        // The item comes back (no extra request, no extra capacity): a take hint is seen at once.
        ReturnValues: 'ALL_NEW',
        // While handing off, the giver keeps the lease alive until its last checkpoint is written.
        ConditionExpression: handingOff
          ? '#counter = :counter AND #checkpointOwner = :checkpointOwner'
          : '#counter = :counter AND attribute_not_exists(#checkpointOwner)',
        UpdateExpression: `SET #counter = :next${retrieval.set}`,
        ExpressionAttributeNames: {
          '#counter': A.LeaseCounter,
          '#checkpointOwner': A.CheckpointOwner,
          ...retrieval.names,
        },
        ExpressionAttributeValues: {
          ':counter': { N: String(lease.leaseCounter) },
          ':next': { N: String(next) },
          ...(handingOff ? { ':checkpointOwner': { S: lease.checkpointOwner! } } : {}),
          ...retrieval.values,
        },
      },
      // Lost response: the first attempt landed and the SDK's retry failed the condition.
      (stored) => stored.leaseCounter === next && stored.leaseOwner === lease.leaseOwner,
      signal,
      (attributes) => {
        hint = attributes[TAKE_HINT_ATTRIBUTE];
      },
    );
    if (!ok) return undefined;
    const unknownAttributes = {
      ...lease.unknownAttributes,
      ...retrieval.attributes,
      ...(hint ? { [TAKE_HINT_ATTRIBUTE]: hint } : {}),
    };
    return { ...lease, leaseCounter: next, unknownAttributes };
  }

  async takeLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const next = lease.leaseCounter + 1;
    const switched = lease.leaseOwner !== undefined && lease.leaseOwner !== owner;
    const retrieval = this.#retrievalSet();
    const ok = await this.#update(
      'take',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: '#counter = :counter',
        UpdateExpression: `SET #counter = :next, #owner = :owner${retrieval.set}${switched ? ' ADD #switches :one' : ''} REMOVE #checkpointOwner`,
        ExpressionAttributeNames: {
          '#counter': A.LeaseCounter,
          '#owner': A.LeaseOwner,
          '#checkpointOwner': A.CheckpointOwner,
          ...(switched ? { '#switches': A.OwnerSwitchesSinceCheckpoint } : {}),
          ...retrieval.names,
        },
        ExpressionAttributeValues: {
          ':counter': { N: String(lease.leaseCounter) },
          ':next': { N: String(next) },
          ':owner': { S: owner },
          ...(switched ? { ':one': { N: '1' } } : {}),
          ...retrieval.values,
        },
      },
      (stored) => stored.leaseCounter === next && stored.leaseOwner === owner,
      signal,
    );
    return ok
      ? {
          ...lease,
          leaseCounter: next,
          leaseOwner: owner,
          checkpointOwner: undefined,
          ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint + (switched ? 1 : 0),
          unknownAttributes: { ...lease.unknownAttributes, ...retrieval.attributes },
        }
      : undefined;
  }

  async releaseLease(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    if (lease.leaseOwner === undefined) return false;
    return this.#update(
      'release',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: '#owner = :owner',
        UpdateExpression: 'SET #counter = #counter + :one REMOVE #owner',
        ExpressionAttributeNames: { '#counter': A.LeaseCounter, '#owner': A.LeaseOwner },
        ExpressionAttributeValues: { ':owner': { S: lease.leaseOwner }, ':one': { N: '1' } },
      },
      undefined,
      signal,
    );
  }

  async resetCheckpoint(
    lease: Lease,
    checkpoint: ExtendedSequenceNumber,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return this.#update(
      'reset',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: '#counter = :counter',
        UpdateExpression:
          'SET #counter = :next, #checkpoint = :checkpoint, #sub = :sub, #switches = :zero ' +
          `REMOVE #owner, #checkpointOwner, #pending, #pendingSub, #pendingState, ${FAILURE_REMOVE}`,
        ExpressionAttributeNames: {
          ...FAILURE_NAMES,
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
      },
      undefined,
      signal,
    );
  }

  async updateCheckpoint(
    lease: Lease,
    update: CheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    if (lease.leaseOwner === undefined) return undefined;
    const fence = this.#fence(lease);
    const next = lease.leaseCounter + 1;
    const children = update.childShardIds ?? [];
    const ok = await this.#update(
      'checkpoint',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: fence.condition,
        UpdateExpression:
          'SET #counter = :next, #checkpoint = :checkpoint, #sub = :sub, #switches = :zero' +
          (children.length > 0 ? ', #children = :children' : '') +
          ` REMOVE #pending, #pendingSub, #pendingState, ${FAILURE_REMOVE}`,
        ExpressionAttributeNames: {
          ...fence.names,
          ...FAILURE_NAMES,
          '#checkpoint': A.Checkpoint,
          '#sub': A.CheckpointSubSequenceNumber,
          '#switches': A.OwnerSwitchesSinceCheckpoint,
          '#pending': A.PendingCheckpoint,
          '#pendingSub': A.PendingCheckpointSubSequenceNumber,
          '#pendingState': A.PendingCheckpointState,
          ...(children.length > 0 ? { '#children': A.ChildShardIds } : {}),
        },
        ExpressionAttributeValues: {
          ...fence.values,
          ':next': { N: String(next) },
          ':checkpoint': { S: update.checkpoint.sequenceNumber },
          ':sub': { N: String(update.checkpoint.subSequenceNumber) },
          ':zero': { N: '0' },
          ...(children.length > 0 ? { ':children': { SS: [...children] } } : {}),
        },
      },
      (stored) =>
        stored.leaseCounter === next &&
        stored.leaseOwner === lease.leaseOwner &&
        stored.checkpoint.sequenceNumber === update.checkpoint.sequenceNumber &&
        stored.checkpoint.subSequenceNumber === update.checkpoint.subSequenceNumber,
      signal,
    );
    return ok
      ? {
          ...lease,
          leaseCounter: next,
          checkpoint: update.checkpoint,
          ownerSwitchesSinceCheckpoint: 0,
          pendingCheckpoint: undefined,
          pendingCheckpointState: undefined,
          childShardIds: children.length > 0 ? [...children] : lease.childShardIds,
          unknownAttributes: withoutShardFailure(lease.unknownAttributes),
        }
      : undefined;
  }

  async recordShardFailure(
    lease: Lease,
    failure: ShardFailureRecord,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (lease.leaseOwner === undefined) return false;
    const fence = this.#fence(lease);
    const next = lease.leaseCounter + 1;
    const isHalted = failure.haltedAt !== undefined;
    return this.#update(
      'fail',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: fence.condition,
        UpdateExpression:
          'SET #counter = :next, #failures = :failures, #failedAt = :failedAt, #lastFailure = :lastFailure' +
          (isHalted ? ', #halted = :halted' : '') +
          ' REMOVE #owner, #checkpointOwner',
        ExpressionAttributeNames: {
          ...fence.names,
          '#owner': A.LeaseOwner,
          '#checkpointOwner': A.CheckpointOwner,
          '#failures': ShardFailureAttribute.FailureCount,
          '#failedAt': ShardFailureAttribute.FailedAt,
          '#lastFailure': ShardFailureAttribute.LastFailure,
          ...(isHalted ? { '#halted': ShardFailureAttribute.Halted } : {}),
        },
        ExpressionAttributeValues: {
          ...fence.values,
          ':next': { N: String(next) },
          ':failures': { N: String(failure.failureCount) },
          ':failedAt': { S: formatFailurePosition(failure.failedAt) },
          ':lastFailure': { S: failure.error },
          ...(isHalted ? { ':halted': { S: failure.haltedAt! } } : {}),
        },
      },
      (stored) =>
        stored.leaseCounter === next &&
        stored.leaseOwner === undefined &&
        (stored.unknownAttributes[ShardFailureAttribute.FailureCount] as { N?: string } | undefined)?.N ===
          String(failure.failureCount),
      signal,
    );
  }

  async prepareCheckpoint(
    lease: Lease,
    update: PrepareCheckpointUpdate,
    signal?: AbortSignal,
  ): Promise<Lease | undefined> {
    if (lease.leaseOwner === undefined) return undefined;
    const fence = this.#fence(lease);
    const next = lease.leaseCounter + 1;
    const state = update.pendingCheckpointState;
    const hasState = state !== undefined && state.length > 0;
    const pending = update.pendingCheckpoint;
    const ok = await this.#update(
      'prepare',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: fence.condition,
        UpdateExpression:
          'SET #counter = :next, #pending = :pending, #pendingSub = :pendingSub' +
          (hasState ? ', #pendingState = :state' : ' REMOVE #pendingState'),
        ExpressionAttributeNames: {
          ...fence.names,
          '#pending': A.PendingCheckpoint,
          '#pendingSub': A.PendingCheckpointSubSequenceNumber,
          '#pendingState': A.PendingCheckpointState,
        },
        ExpressionAttributeValues: {
          ...fence.values,
          ':next': { N: String(next) },
          ':pending': { S: pending.sequenceNumber },
          ':pendingSub': { N: String(pending.subSequenceNumber) },
          ...(hasState ? { ':state': { B: state } } : {}),
        },
      },
      (stored) =>
        stored.leaseCounter === next &&
        stored.leaseOwner === lease.leaseOwner &&
        stored.pendingCheckpoint?.sequenceNumber === pending.sequenceNumber &&
        stored.pendingCheckpoint?.subSequenceNumber === pending.subSequenceNumber,
      signal,
    );
    return ok
      ? {
          ...lease,
          leaseCounter: next,
          pendingCheckpoint: pending,
          pendingCheckpointState: hasState ? state : undefined,
        }
      : undefined;
  }

  async requestHandoff(lease: Lease, nextOwner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    if (lease.leaseOwner === undefined) return undefined;
    const ok = await this.#update(
      'requestHandoff',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression:
          '#owner = :owner AND #counter = :counter AND attribute_not_exists(#checkpointOwner)',
        UpdateExpression: 'SET #owner = :next, #checkpointOwner = :owner',
        ExpressionAttributeNames: {
          '#owner': A.LeaseOwner,
          '#counter': A.LeaseCounter,
          '#checkpointOwner': A.CheckpointOwner,
        },
        ExpressionAttributeValues: {
          ':owner': { S: lease.leaseOwner },
          ':counter': { N: String(lease.leaseCounter) },
          ':next': { S: nextOwner },
        },
      },
      (stored) =>
        stored.leaseOwner === nextOwner &&
        stored.checkpointOwner === lease.leaseOwner &&
        stored.leaseCounter === lease.leaseCounter,
      signal,
    );
    return ok ? { ...lease, leaseOwner: nextOwner, checkpointOwner: lease.leaseOwner } : undefined;
  }

  async completeHandoff(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    if (lease.checkpointOwner === undefined) return false;
    const next = lease.leaseCounter + 1;
    return this.#update(
      'completeHandoff',
      {
        Key: this.#key(lease.leaseKey),
        ConditionExpression: '#counter = :counter AND #checkpointOwner = :checkpointOwner',
        UpdateExpression: 'SET #counter = :next ADD #switches :one REMOVE #checkpointOwner',
        ExpressionAttributeNames: {
          '#counter': A.LeaseCounter,
          '#checkpointOwner': A.CheckpointOwner,
          '#switches': A.OwnerSwitchesSinceCheckpoint,
        },
        ExpressionAttributeValues: {
          ':counter': { N: String(lease.leaseCounter) },
          ':next': { N: String(next) },
          ':checkpointOwner': { S: lease.checkpointOwner },
          ':one': { N: '1' },
        },
      },
      (stored) => stored.leaseCounter === next && stored.checkpointOwner === undefined,
      signal,
    );
  }

  async updateLeaseMeta(leaseKey: string, update: LeaseMetaUpdate, signal?: AbortSignal): Promise<boolean> {
    const sets: string[] = [];
    const names: Record<string, string> = { '#key': A.LeaseKey };
    const values: Record<string, AttributeValue> = {};
    if (update.childShardIds && update.childShardIds.length > 0) {
      sets.push('#children = :children');
      names['#children'] = A.ChildShardIds;
      values[':children'] = { SS: [...update.childShardIds] };
    }
    if (update.takeHint !== undefined) {
      sets.push('#hint = :hint');
      names['#hint'] = TAKE_HINT_ATTRIBUTE;
      values[':hint'] = { S: update.takeHint };
    }
    if (update.streamIdentity) {
      const attributes = Object.entries(streamIdentityAttributes(update.streamIdentity));
      attributes.forEach(([name, value], i) => {
        sets.push(`#identity${i} = :identity${i}`);
        names[`#identity${i}`] = name;
        values[`:identity${i}`] = value;
      });
    }
    if (update.hashKeyRange) {
      sets.push('#start = :start', '#end = :end');
      names['#start'] = A.StartingHashKey;
      names['#end'] = A.EndingHashKey;
      values[':start'] = { S: update.hashKeyRange.startingHashKey };
      values[':end'] = { S: update.hashKeyRange.endingHashKey };
    }
    if (sets.length === 0) return (await this.getLease(leaseKey, signal)) !== undefined;
    return this.#update(
      'meta',
      {
        Key: this.#key(leaseKey),
        ConditionExpression: 'attribute_exists(#key)',
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
      undefined,
      signal,
    );
  }

  async deleteLease(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: this.#key(lease.leaseKey),
          ConditionExpression: '#counter = :counter',
          ExpressionAttributeNames: { '#counter': A.LeaseCounter },
          ExpressionAttributeValues: { ':counter': { N: String(lease.leaseCounter) } },
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') {
        throw translateDynamoDBError('DeleteItem', error);
      }
      // A retried request whose first attempt landed fails its condition on the missing item: the
      // lease is gone either way, which is all the caller needs to know.
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      return attempts >= 2 && (await this.getLease(lease.leaseKey, signal)) === undefined;
    }
  }

  /**
   * The fencing condition of checkpoint writes: the counter, and the owner — or, while this worker hands
   * the lease off, `checkpointOwner` (the KCL 3.x giver checkpoints until it completes the hand-off).
   */
  #fence(lease: Lease): {
    condition: string;
    names: Record<string, string>;
    values: Record<string, AttributeValue>;
  } {
    if (lease.checkpointOwner !== undefined) {
      return {
        condition: '#counter = :counter AND #checkpointOwner = :checkpointOwner',
        names: { '#counter': A.LeaseCounter, '#checkpointOwner': A.CheckpointOwner },
        values: {
          ':counter': { N: String(lease.leaseCounter) },
          ':checkpointOwner': { S: lease.checkpointOwner },
        },
      };
    }
    return {
      condition: '#counter = :counter AND #owner = :owner',
      names: { '#counter': A.LeaseCounter, '#owner': A.LeaseOwner },
      values: { ':counter': { N: String(lease.leaseCounter) }, ':owner': { S: lease.leaseOwner ?? '' } },
    };
  }

  #key(leaseKey: string): Record<string, AttributeValue> {
    return { [A.LeaseKey]: { S: leaseKey } };
  }

  #read(item: Record<string, AttributeValue>): Lease | undefined {
    try {
      return leaseFromItem(item);
    } catch (error) {
      if (!(error instanceof MalformedLeaseItemError)) throw error;
      // Never fail the whole worker on one bad item: report it loudly and leave it alone.
      this.#logger.error('Skipping a malformed lease item', { tableName: this.#tableName, error });
      return undefined;
    }
  }

  async #update(
    operation: string,
    input: Omit<UpdateItemCommandInput, 'TableName'>,
    landed: ((stored: Lease) => boolean) | undefined,
    signal: AbortSignal | undefined,
    onAttributes?: (attributes: Record<string, AttributeValue>) => void,
  ): Promise<boolean> {
    try {
      const output = await this.#client.send(
        new UpdateItemCommand({ TableName: this.#tableName, ...input }),
        {
          abortSignal: signal,
        },
      );
      if (output?.Attributes) onAttributes?.(output.Attributes);
      return true;
    } catch (error) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') {
        throw translateDynamoDBError(`UpdateItem (${operation})`, error);
      }
      // Only a retried request can have met its own earlier write (a lost response); a condition
      // failure on the first attempt is a real one.
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if (!landed || attempts < 2) return false;
      const key = input.Key?.[A.LeaseKey]?.S ?? '';
      const stored = await this.getLease(key, signal);
      return stored !== undefined && landed(stored);
    }
  }

  async #describe(signal?: AbortSignal): Promise<TableDescription | undefined> {
    try {
      const { Table } = await this.#client.send(new DescribeTableCommand({ TableName: this.#tableName }), {
        abortSignal: signal,
      });
      return Table;
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
      throw translateDynamoDBError('DescribeTable', error);
    }
  }

  #checkSchema(table: TableDescription): void {
    const keys = table.KeySchema ?? [];
    const types = new Map((table.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
    const ok =
      keys.length === 1 &&
      keys[0]?.AttributeName === A.LeaseKey &&
      keys[0]?.KeyType === 'HASH' &&
      types.get(A.LeaseKey) === 'S';
    if (!ok) {
      const found = keys.map(
        (k) => `${k.AttributeName} (${k.KeyType}, ${types.get(k.AttributeName) ?? '?'})`,
      );
      throw new LeaseTableSchemaError(this.#tableName, found.join(', ') || '(none)');
    }
  }
}

function sameKeys(found: readonly KeySchemaElement[], wanted: readonly KeySchemaElement[]): boolean {
  return (
    found.length === wanted.length &&
    wanted.every((w, i) => found[i]?.AttributeName === w.AttributeName && found[i]?.KeyType === w.KeyType)
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a Query failed because the index cannot be read: DynamoDB answers `ValidationException` ("The
 * table does not have the specified index", "Cannot read from backfilling global secondary index");
 * the KCL 3.x also reads `ResourceNotFoundException` so (a missing table then fails the fallback scan).
 */
function isMissingIndex(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name === 'ResourceNotFoundException') return true;
  return name === 'ValidationException' && /index/i.test(errorMessage(error));
}

/** The `leaseKey` of every item of a paginated `Query` or `Scan` projected to the key. */
async function collectLeaseKeys(
  page: (startKey: Record<string, AttributeValue> | undefined) => Promise<{
    Items?: Record<string, AttributeValue>[];
    LastEvaluatedKey?: Record<string, AttributeValue>;
  }>,
): Promise<string[]> {
  const keys: string[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const result = await page(startKey);
    for (const item of result.Items ?? []) {
      const key = item[A.LeaseKey]?.S;
      if (key !== undefined) keys.push(key);
    }
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return keys;
}
