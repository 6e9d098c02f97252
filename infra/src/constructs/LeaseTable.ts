import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';

/** Props of {@link LeaseTable}. */
export interface LeaseTableProps {
  /**
   * The table name. Shardline (like the Java KCL) names the lease table after the application: pass
   * the consumer's `applicationName`. 3–255 characters of `a-z A-Z 0-9 _ . -`.
   */
  readonly tableName: string;
  /**
   * What happens to the table (and its checkpoints) when the stack is deleted.
   * @defaultValue RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
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

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * A KCL-compatible lease table: key `leaseKey` (string, hash key only), on-demand billing, point-in-time
 * recovery, AWS-owned encryption. One per consumer application; the Java KCL and Shardline workers can
 * share it.
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class LeaseTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: LeaseTableProps) {
    super(scope, id);
    const problems = propsProblems('LeaseTable');
    problems.optionalMatch('tableName', props.tableName, TABLE_NAME, '3–255 characters of a-z A-Z 0-9 _ . -');
    if (props.tableName === undefined) problems.add('tableName', 'is required');
    problems.throwIfAny();

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'leaseKey', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** Lets a worker take, renew and checkpoint leases: exactly {@link LEASE_TABLE_WORKER_ACTIONS} on this table. */
  grantWorker(grantee: iam.IGrantable): iam.Grant {
    return this.table.grant(grantee, ...LEASE_TABLE_WORKER_ACTIONS);
  }
}
