import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../config/acknowledge.js';
import { propsProblems } from '../config/propsProblems.js';
import {
  SHARD_SCALING_DEFAULTS,
  SHARD_WRITE_CAPACITY,
  type ShardScalingPolicy,
  UPDATE_SHARD_COUNT_LIMITS,
} from '../scaling/decideShardCount.js';
import { OPEN_SHARD_COUNT_METRIC } from '../scaling/openShardCountMetric.js';
import { bundledFunction, lambdaEntry } from './bundledFunction.js';

/** Capacity modes of {@link EventStream}. */
export const StreamCapacityMode = {
  /** Kinesis adds and removes capacity itself; pay per GB. */
  OnDemand: 'on-demand',
  /** A fixed shard count, changed by the stream's scaler within `UpdateShardCount`'s limits. */
  Provisioned: 'provisioned',
} as const;
/** See {@link StreamCapacityMode}. */
export type StreamCapacityMode = (typeof StreamCapacityMode)[keyof typeof StreamCapacityMode];

/** The scaler of a provisioned stream. Unset fields take {@link SHARD_SCALING_DEFAULTS}. */
export interface ShardScalingOptions extends Partial<ShardScalingPolicy> {}

/** Props of {@link EventStream}. */
export interface EventStreamProps {
  /** @defaultValue a generated name */
  readonly streamName?: string;
  /** @defaultValue 'on-demand' */
  readonly capacityMode?: StreamCapacityMode;
  /** Initial shards of a provisioned stream. @defaultValue 4 */
  readonly shardCount?: number;
  /**
   * The scaler of a provisioned stream (ignored on demand).
   * @defaultValue minShards: shardCount, maxShards: 8 × shardCount, the rest {@link SHARD_SCALING_DEFAULTS}
   */
  readonly scaling?: ShardScalingOptions;
  /** 24 to 8,760 hours. @defaultValue 24 */
  readonly retentionHours?: number;
  /** The customer-managed key. @defaultValue a new key with yearly rotation */
  readonly encryptionKey?: kms.IKey;
  /** @defaultValue RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Kinesis actions a polling reader needs (consumer-core: ListShards, GetShardIterator, GetRecords). */
export const STREAM_READER_ACTIONS = Object.freeze([
  'kinesis:DescribeStreamSummary',
  'kinesis:ListShards',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
] as const);
/**
 * Kinesis actions on the stream an enhanced fan-out reader needs besides {@link STREAM_READER_ACTIONS}:
 * registering its consumer (idempotent: an existing one is reused) and finding it again.
 */
export const STREAM_FAN_OUT_ACTIONS = Object.freeze([
  'kinesis:RegisterStreamConsumer',
  'kinesis:DescribeStreamConsumer',
  'kinesis:ListStreamConsumers',
] as const);
/** Kinesis actions on the stream's registered consumers (`<streamArn>/consumer/*`) a fan-out reader needs. */
export const STREAM_CONSUMER_ACTIONS = Object.freeze([
  'kinesis:SubscribeToShard',
  'kinesis:DescribeStreamConsumer',
] as const);
/** Kinesis actions a writer needs. */
export const STREAM_WRITER_ACTIONS = Object.freeze(['kinesis:PutRecords', 'kinesis:PutRecord'] as const);

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * A Kinesis data stream encrypted with a customer-managed KMS key. On-demand by default; provisioned
 * streams get a scaler: alarms on incoming bytes, incoming records and write throttling (and a
 * 5-minute schedule, to scale back once load passes) run a small function that calls `UpdateShardCount`
 * within its limits (see `decideShardCount`). The same function publishes `Shardline/Streams
 * OpenShardCount`, which consumer services scale on. `grantRead`/`grantWrite` give exactly the Kinesis
 * and KMS actions needed (`kms:Decrypt` to read, `kms:GenerateDataKey` to write).
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class EventStream extends Construct {
  readonly stream: kinesis.Stream;
  readonly key: kms.IKey;
  readonly capacityMode: StreamCapacityMode;
  /** The scaling policy in force (provisioned streams only). */
  readonly scalingPolicy: ShardScalingPolicy | undefined;
  /** Publishes the open shard count and, when provisioned, scales the stream. */
  readonly scalerFunction: lambda.IFunction;
  /** The scale-up alarms (provisioned streams only). */
  readonly scalingAlarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: EventStreamProps = {}) {
    super(scope, id);
    const problems = propsProblems('EventStream');
    problems.optionalMatch(
      'streamName',
      props.streamName,
      STREAM_NAME,
      '1–128 characters of a-z A-Z 0-9 _ . -',
    );
    problems.optionalOneOf('capacityMode', props.capacityMode, Object.values(StreamCapacityMode));
    problems.optionalInteger('shardCount', props.shardCount, 1, 10_000);
    problems.optionalInteger('retentionHours', props.retentionHours, 24, 8760);
    const capacityMode = props.capacityMode ?? StreamCapacityMode.OnDemand;
    if (capacityMode === StreamCapacityMode.OnDemand) {
      if (props.shardCount !== undefined) problems.add('shardCount', 'applies to provisioned streams only');
      if (props.scaling !== undefined) problems.add('scaling', 'applies to provisioned streams only');
    }
    const shardCount = props.shardCount ?? 4;
    const s = props.scaling ?? {};
    const policy: ShardScalingPolicy = {
      ...SHARD_SCALING_DEFAULTS,
      minShards: shardCount,
      maxShards: shardCount * 8,
      ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)),
    };
    problems.optionalInteger('scaling.minShards', s.minShards, 1, 10_000);
    problems.optionalInteger('scaling.maxShards', s.maxShards, 1, 10_000);
    problems.optionalInteger(
      'scaling.maxUpdatesPerDay',
      s.maxUpdatesPerDay,
      1,
      UPDATE_SHARD_COUNT_LIMITS.maxCallsPer24Hours,
    );
    problems.optionalNumber('scaling.scaleUpUtilization', s.scaleUpUtilization, 0.05, 1);
    problems.optionalNumber('scaling.scaleDownUtilization', s.scaleDownUtilization, 0, 0.95);
    problems.optionalNumber('scaling.targetUtilization', s.targetUtilization, 0.05, 1);
    problems.optionalInteger('scaling.scaleDownCooldownMs', s.scaleDownCooldownMs, 0, 7 * 24 * 3_600_000);
    if (policy.minShards > policy.maxShards) {
      problems.add(
        'scaling',
        `minShards (${policy.minShards}) must not exceed maxShards (${policy.maxShards})`,
      );
    }
    if (
      policy.scaleDownUtilization >= policy.targetUtilization ||
      policy.targetUtilization >= policy.scaleUpUtilization
    ) {
      problems.add(
        'scaling',
        `need scaleDownUtilization < targetUtilization < scaleUpUtilization, got ${policy.scaleDownUtilization}, ${policy.targetUtilization}, ${policy.scaleUpUtilization}`,
      );
    }
    if (
      capacityMode === StreamCapacityMode.Provisioned &&
      (shardCount < policy.minShards || shardCount > policy.maxShards)
    ) {
      problems.add(
        'shardCount',
        `must be within scaling.minShards..maxShards (${policy.minShards}..${policy.maxShards})`,
      );
    }
    problems.throwIfAny();

    this.capacityMode = capacityMode;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Shardline event stream encryption',
        enableKeyRotation: true,
        removalPolicy,
      });
    const isProvisioned = capacityMode === StreamCapacityMode.Provisioned;
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: isProvisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: isProvisioned ? shardCount : undefined,
      retentionPeriod: Duration.hours(props.retentionHours ?? 24),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      removalPolicy,
    });
    acknowledgeNag(
      this.stream,
      'KDS3',
      'Encrypted with a customer-managed key on purpose: its key policy and grants (kms:Decrypt to readers, kms:GenerateDataKey to writers) are in this stack.',
    );
    this.scalingPolicy = isProvisioned ? policy : undefined;

    const scaler = bundledFunction(this, 'Scaler', {
      entry: lambdaEntry('streamScaler'),
      description: isProvisioned
        ? 'Scales the Shardline event stream within UpdateShardCount limits; publishes its open shard count'
        : 'Publishes the open shard count of the Shardline event stream',
      environment: {
        STREAM_NAME: this.stream.streamName,
        ...(isProvisioned ? { SCALING_POLICY: JSON.stringify(policy) } : {}),
      },
    });
    this.scalerFunction = scaler;
    scaler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'kinesis:DescribeStreamSummary',
          ...(isProvisioned
            ? ['kinesis:UpdateShardCount', 'kinesis:ListTagsForStream', 'kinesis:AddTagsToStream']
            : []),
        ],
        resources: [this.stream.streamArn],
      }),
    );
    // PutMetricData and GetMetricData have no resource-level permissions; PutMetricData is pinned to
    // the namespace by condition.
    scaler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': OPEN_SHARD_COUNT_METRIC.namespace } },
      }),
    );
    if (isProvisioned) {
      scaler.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      );
    }
    acknowledgeNag(
      scaler,
      'IAM5[Resource::*]',
      'cloudwatch:PutMetricData (pinned to the Shardline/Streams namespace by condition) and cloudwatch:GetMetricData have no resource-level permissions.',
    );
    new events.Rule(this, 'Schedule', {
      description: 'Runs the stream scaler every 5 minutes (shard count metric, scale back after a surge)',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(scaler)],
    });

    const alarms: cloudwatch.Alarm[] = [];
    if (isProvisioned) {
      const perMinute = (metric: cloudwatch.Metric) =>
        metric.with({ period: Duration.minutes(1), statistic: 'Sum' });
      // The threshold follows the initial size; after a reshard the scheduled run takes over, and the
      // throttling alarm catches any shortfall.
      const upAt = policy.scaleUpUtilization * 60;
      // Incoming bytes or records over the scale-up share of the shards' write capacity.
      const incomingHigh = (id: string, what: string, metric: cloudwatch.Metric, perShardPerSecond: number) =>
        new cloudwatch.Alarm(this, id, {
          alarmDescription: `Incoming ${what} over ${Math.round(policy.scaleUpUtilization * 100)} % of ${shardCount} shards: scale up`,
          metric: perMinute(metric),
          threshold: upAt * shardCount * perShardPerSecond,
          evaluationPeriods: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      alarms.push(
        incomingHigh(
          'IncomingBytesHigh',
          'bytes',
          this.stream.metricIncomingBytes(),
          SHARD_WRITE_CAPACITY.bytesPerSecond,
        ),
        incomingHigh(
          'IncomingRecordsHigh',
          'records',
          this.stream.metricIncomingRecords(),
          SHARD_WRITE_CAPACITY.recordsPerSecond,
        ),
        new cloudwatch.Alarm(this, 'WriteThrottled', {
          alarmDescription: 'Writes throttled by Kinesis: scale up',
          metric: perMinute(this.stream.metricWriteProvisionedThroughputExceeded()),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      for (const alarm of alarms)
        alarm.addAlarmAction(new actions.LambdaAction(scaler, { useUniquePermissionId: true }));
    }
    this.scalingAlarms = alarms;
  }

  /** The open shard count the scaler publishes every 5 minutes (maximum per period). */
  metricOpenShardCount(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: OPEN_SHARD_COUNT_METRIC.namespace,
      metricName: OPEN_SHARD_COUNT_METRIC.name,
      dimensionsMap: { StreamName: this.stream.streamName },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Lets a polling consumer read: {@link STREAM_READER_ACTIONS} on this stream, `kms:Decrypt` on its key. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    this.key.grant(grantee, 'kms:Decrypt');
    return this.#grantOn(grantee, STREAM_READER_ACTIONS, this.stream.streamArn);
  }

  /**
   * Lets an enhanced fan-out consumer read: everything {@link grantRead} gives, plus
   * {@link STREAM_FAN_OUT_ACTIONS} on this stream and {@link STREAM_CONSUMER_ACTIONS} on its registered
   * consumers (`<streamArn>/consumer/*`: a consumer's ARN ends with its registration time, unknown
   * before it is registered). No `DeregisterStreamConsumer`: deregistering is an operator's act
   * (`shardline consumers deregister`).
   */
  grantFanOutRead(grantee: iam.IGrantable): iam.Grant {
    const read = this.grantRead(grantee);
    const register = this.#grantOn(grantee, STREAM_FAN_OUT_ACTIONS, this.stream.streamArn);
    const subscribe = this.#grantOn(grantee, STREAM_CONSUMER_ACTIONS, this.consumerArns);
    return read.combine(register).combine(subscribe);
  }

  /** The ARN pattern of this stream's registered consumers: `<streamArn>/consumer/*`. */
  get consumerArns(): string {
    return `${this.stream.streamArn}/consumer/*`;
  }

  /** Lets a producer write: {@link STREAM_WRITER_ACTIONS} on this stream, `kms:GenerateDataKey` on its key. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    this.key.grant(grantee, 'kms:GenerateDataKey');
    return this.#grantOn(grantee, STREAM_WRITER_ACTIONS, this.stream.streamArn);
  }

  /** Grants `actions` on `resourceArn` to `grantee`'s principal policy. */
  #grantOn(grantee: iam.IGrantable, actions: readonly string[], resourceArn: string): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [resourceArn] });
  }
}
