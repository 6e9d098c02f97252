import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';

/**
 * How a consumer application's workers share its leases (consumer-core's `leaseAssignment` option):
 * `'worker'`, every worker lists the lease table and takes its share (the Java KCL 2.x design);
 * `'leader'`, an elected worker assigns the leases and the others read theirs through the lease
 * table's `leaseOwner` index (the Java KCL 3.x design).
 */
export type LeaseAssignment = 'worker' | 'leader';

/** Props of {@link LeaseTable}. */
export interface LeaseTableProps {
  /**
   * The table name. Shardline (like the Java KCL) names the lease table after the application: pass
   * the consumer's `applicationName`. 3–255 characters of `a-z A-Z 0-9 _ . -` (at most 234 with
   * `leaseAssignment: 'leader'`, whose coordinator table is named `<tableName>-ShardlineCoordinator`).
   */
  readonly tableName: string;
  /**
   * What happens to the table (and its checkpoints) when the stack is deleted; also applies to the
   * coordinator table.
   * @defaultValue RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How the application's workers share the leases; must be the consumers' `leaseAssignment` (a
   * {@link ConsumerService} on this table tells its tasks). With `'leader'` the table gets the KCL 3.x
   * `leaseOwner` index ({@link LEASE_OWNER_INDEX_NAME}: `leaseOwner` HASH, `leaseKey` RANGE, keys
   * only) and the construct creates the coordinator table ({@link LeaseTable.coordinatorTable}), so
   * that workers need neither `dynamodb:CreateTable` nor `dynamodb:UpdateTable`. Switching an existing
   * table to `'leader'` adds the index in place (DynamoDB backfills it; workers scan until it is
   * active); switching back removes the index, and the coordinator table follows `removalPolicy`.
   * @defaultValue 'worker'
   */
  readonly leaseAssignment?: LeaseAssignment;
}

/** The DynamoDB actions a Shardline worker uses on its lease table (consumer-core's DynamoDBLeaseStore). */
export const LEASE_TABLE_WORKER_ACTIONS = Object.freeze([
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Scan',
] as const);

/** The lease table's `leaseOwner` index (`leaseAssignment: 'leader'`), named as the Java KCL 3.x names it. */
export const LEASE_OWNER_INDEX_NAME = 'LeaseOwnerToLeaseKeyIndex';

/**
 * What a worker does on the lease table's `leaseOwner` index (`leaseAssignment: 'leader'`): it queries
 * the keys of the leases it owns. Granted on that index's ARN only.
 */
export const LEASE_OWNER_INDEX_WORKER_ACTIONS = Object.freeze(['dynamodb:Query'] as const);

/**
 * The DynamoDB actions a worker uses on the coordinator table (`leaseAssignment: 'leader'`): the
 * leader item and the workers' heartbeat items, written with the lease protocol — so the lease
 * table's actions ({@link LEASE_TABLE_WORKER_ACTIONS}).
 */
export const COORDINATOR_TABLE_WORKER_ACTIONS = LEASE_TABLE_WORKER_ACTIONS;

/** The suffix consumer-core's default `coordinatorTableName` adds to the lease table's name. */
const COORDINATOR_SUFFIX = '-ShardlineCoordinator';
const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;
const MAX_LEADER_TABLE_NAME = 255 - COORDINATOR_SUFFIX.length;

/**
 * A KCL-compatible lease table: key `leaseKey` (string, hash key only), on-demand billing, point-in-time
 * recovery, AWS-owned encryption. One per consumer application; the Java KCL and Shardline workers can
 * share it. With `leaseAssignment: 'leader'`, also the `leaseOwner` index and the coordinator table
 * (same settings).
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class LeaseTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;
  /** How the application's workers share the leases. */
  readonly leaseAssignment: LeaseAssignment;
  /**
   * The coordinator table (`leaseAssignment: 'leader'`), named `<tableName>-ShardlineCoordinator`
   * (consumer-core's default `coordinatorTableName`); `undefined` with `'worker'`.
   */
  readonly coordinatorTable: dynamodb.Table | undefined;

  constructor(scope: Construct, id: string, props: LeaseTableProps) {
    super(scope, id);
    const problems = propsProblems('LeaseTable');
    problems.optionalMatch('tableName', props.tableName, TABLE_NAME, '3–255 characters of a-z A-Z 0-9 _ . -');
    if (props.tableName === undefined) problems.add('tableName', 'is required');
    problems.optionalOneOf('leaseAssignment', props.leaseAssignment, ['worker', 'leader']);
    if (
      props.leaseAssignment === 'leader' &&
      typeof props.tableName === 'string' &&
      !Token.isUnresolved(props.tableName) &&
      props.tableName.length > MAX_LEADER_TABLE_NAME
    ) {
      problems.add(
        'tableName',
        `must be at most ${MAX_LEADER_TABLE_NAME} characters with leaseAssignment 'leader' (the coordinator table is named <tableName>${COORDINATOR_SUFFIX}), got ${props.tableName.length}`,
      );
    }
    problems.throwIfAny();

    this.leaseAssignment = props.leaseAssignment ?? 'worker';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'leaseKey', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
    if (this.leaseAssignment === 'leader') {
      // The KCL 3.x index, as consumer-core creates it: its Query finds a worker's leases without
      // listing the table. Changing an owner writes the index; renewals and checkpoints do not.
      this.table.addGlobalSecondaryIndex({
        indexName: LEASE_OWNER_INDEX_NAME,
        partitionKey: { name: 'leaseOwner', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'leaseKey', type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
      this.coordinatorTable = new dynamodb.Table(this, 'CoordinatorTable', {
        tableName: `${props.tableName}${COORDINATOR_SUFFIX}`,
        partitionKey: { name: 'leaseKey', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
      });
    } else {
      this.coordinatorTable = undefined;
    }
  }

  /**
   * Lets a worker take, renew and checkpoint leases: exactly {@link LEASE_TABLE_WORKER_ACTIONS} on this
   * table; with `leaseAssignment: 'leader'`, also {@link LEASE_OWNER_INDEX_WORKER_ACTIONS} on the
   * `leaseOwner` index and {@link COORDINATOR_TABLE_WORKER_ACTIONS} on the coordinator table. Never
   * `dynamodb:CreateTable` or `dynamodb:UpdateTable`: the stack creates both tables and the index, and
   * a worker that finds them needs neither (one that could add the index itself would put the table out
   * of step with the template, and the stack's own update would then fail).
   */
  grantWorker(grantee: iam.IGrantable): iam.Grant {
    // Table.grant would add `<table>/index/*` once the table has an index: name each resource instead.
    let grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...LEASE_TABLE_WORKER_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
    if (this.coordinatorTable !== undefined) {
      grant = grant
        .combine(
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...LEASE_OWNER_INDEX_WORKER_ACTIONS],
            resourceArns: [`${this.table.tableArn}/index/${LEASE_OWNER_INDEX_NAME}`],
          }),
        )
        .combine(
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...COORDINATOR_TABLE_WORKER_ACTIONS],
            resourceArns: [this.coordinatorTable.tableArn],
          }),
        );
    }
    return grant;
  }
}
