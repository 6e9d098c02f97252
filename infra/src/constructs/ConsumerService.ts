import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../config/acknowledge.js';
import { propsProblems } from '../config/propsProblems.js';
import type { ArchiveBucket } from './ArchiveBucket.js';
import type { EventStream } from './EventStream.js';
import type { LeaseTable } from './LeaseTable.js';

/** Props of {@link ConsumerService}. */
export interface ConsumerServiceProps {
  readonly cluster: ecs.ICluster;
  readonly stream: EventStream;
  /**
   * This application's own lease table (its name is the application name). When its
   * `leaseAssignment` is `'leader'`, tasks get `SHARDLINE_LEASE_ASSIGNMENT=leader` and
   * `SHARDLINE_COORDINATOR_TABLE` (which the s3-sink's default command turns into
   * `--lease-assignment leader`; your app passes them as the consumer's `leaseAssignment` and
   * `coordinatorTableName`), and the task role may also query the table's `leaseOwner` index and work
   * the coordinator table (see `LeaseTable.grantWorker`).
   */
  readonly leaseTable: LeaseTable;
  /** The image holding the consumer app. */
  readonly image: ecs.ContainerImage;
  /** The container command (the app and its arguments). @defaultValue the image's own */
  readonly command?: readonly string[];
  /** More environment variables (no secrets: use `secrets`). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Secrets from Secrets Manager or SSM, by variable name. */
  readonly secrets?: Readonly<Record<string, ecs.Secret>>;
  /**
   * The port of the app's `/healthz` (its `--health-port`, passed as `SHARDLINE_HEALTH_PORT`): the
   * container health check asks it from inside the container (127.0.0.1), so ECS replaces a task whose
   * event loop is stuck or whose lease renewals keep failing. A stalled shard is never a restart signal:
   * it shows in `/readyz`, which the health check does not ask.
   * @defaultValue none (no container health check)
   */
  readonly healthCheckPort?: number;
  /**
   * The archive this app writes to, and the key prefix it may write under. `startCheck` (default
   * `true`) also allows the s3-sink command's start check: `HeadBucket` and its own object
   * `.shardline-s3-sink/write-check/<application>` (see `ArchiveBucket.grantStartCheck`).
   * @defaultValue none
   */
  readonly archive?: {
    readonly bucket: ArchiveBucket;
    readonly prefix?: string;
    readonly startCheck?: boolean;
  };
  /** Task CPU units (256, 512, 1024, 2048, 4096). @defaultValue 512 */
  readonly cpu?: number;
  /** Task memory in MiB. @defaultValue 1024 */
  readonly memoryMiB?: number;
  /** Shards one task reads (the service runs ⌈open shards / shardsPerTask⌉ tasks). @defaultValue 4 */
  readonly shardsPerTask?: number;
  /** @defaultValue 1 */
  readonly minTasks?: number;
  /** @defaultValue 8 */
  readonly maxTasks?: number;
  /** @defaultValue logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Read with enhanced fan-out through a registered consumer of this name instead of polling: the task
   * role may then register it, find it and subscribe to shards through it (see
   * `EventStream.grantFanOutRead`), and tasks get `SHARDLINE_FAN_OUT_CONSUMER` (which the s3-sink's
   * default command turns into `--fan-out`; your app passes it as the consumer's
   * `retrieval: { fanOut: { consumerName } }`). A registered consumer is billed per shard-hour.
   * @defaultValue undefined (polling)
   */
  readonly fanOut?: { readonly consumerName?: string };
}

/** The variables the construct sets itself (`environment` may not set them). */
const CONSTRUCT_ENV = [
  'SHARDLINE_STREAM',
  'SHARDLINE_APP',
  'SHARDLINE_LEASE_TABLE',
  'SHARDLINE_BUCKET',
  'SHARDLINE_PREFIX',
  'SHARDLINE_FAN_OUT_CONSUMER',
  'SHARDLINE_LEASE_ASSIGNMENT',
  'SHARDLINE_COORDINATOR_TABLE',
];

/** AWS: a consumer name is 1–128 characters of a-z A-Z 0-9 _ . - */
const CONSUMER_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

const FARGATE_CPU = [256, 512, 1024, 2048, 4096, 8192, 16384];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A Fargate service running one Shardline consumer application (the s3-sink, live metrics, your app)
 * with least-privilege IAM: read the stream (and decrypt it) by polling or, with `fanOut`, by enhanced
 * fan-out, work its own lease table, and — for an archiver — write objects under its prefix of the
 * archive bucket; nothing else. Tasks get
 * `SHARDLINE_STREAM`, `SHARDLINE_APP` and `SHARDLINE_LEASE_TABLE` (and `SHARDLINE_BUCKET`,
 * `SHARDLINE_PREFIX` for an archiver; `SHARDLINE_FAN_OUT_CONSUMER` with `fanOut`;
 * `SHARDLINE_LEASE_ASSIGNMENT=leader` and `SHARDLINE_COORDINATOR_TABLE` when the lease table's
 * `leaseAssignment` is `'leader'`). The service scales by shard count: ⌈open shards /
 * shardsPerTask⌉ tasks, on the stream's published `OpenShardCount`; leases spread the shards.
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class ConsumerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ConsumerServiceProps) {
    super(scope, id);
    const problems = propsProblems('ConsumerService');
    for (const key of ['cluster', 'stream', 'leaseTable', 'image'] as const) {
      if (props[key] === undefined) problems.add(key, 'is required');
    }
    const cpu = props.cpu ?? 512;
    const memoryMiB = props.memoryMiB ?? 1024;
    if (props.cpu !== undefined && !FARGATE_CPU.includes(props.cpu))
      problems.add('cpu', `must be one of ${FARGATE_CPU.join(', ')}, got ${props.cpu}`);
    problems.optionalInteger('memoryMiB', props.memoryMiB, 512, 122_880);
    if (Number.isInteger(memoryMiB) && Number.isInteger(cpu) && (memoryMiB < cpu || memoryMiB > cpu * 8)) {
      problems.add(
        'memoryMiB',
        `must be between 1× and 8× cpu for Fargate (cpu ${cpu}: ${cpu}–${cpu * 8} MiB), got ${memoryMiB}`,
      );
    }
    problems.optionalInteger('shardsPerTask', props.shardsPerTask, 1, 1000);
    problems.optionalInteger('minTasks', props.minTasks, 0, 1000);
    problems.optionalInteger('maxTasks', props.maxTasks, 1, 1000);
    problems.optionalInteger('healthCheckPort', props.healthCheckPort, 1, 65_535);
    const minTasks = props.minTasks ?? 1;
    const maxTasks = props.maxTasks ?? 8;
    if (minTasks > maxTasks)
      problems.add('minTasks', `must not exceed maxTasks (${maxTasks}), got ${minTasks}`);
    if (
      props.command !== undefined &&
      (props.command.length === 0 || props.command.some((c) => typeof c !== 'string'))
    ) {
      problems.add('command', 'must be a non-empty list of strings');
    }
    for (const name of Object.keys(props.environment ?? {})) {
      if (!ENV_NAME.test(name)) problems.add(`environment.${name}`, 'is not a valid variable name');
      if (CONSTRUCT_ENV.includes(name)) problems.add(`environment.${name}`, 'is set by the construct');
    }
    problems.optionalMatch(
      'fanOut.consumerName',
      props.fanOut?.consumerName,
      CONSUMER_NAME,
      '1–128 characters of a-z A-Z 0-9 _ . -',
    );
    problems.throwIfAny();

    const tableName = props.leaseTable.table.tableName;
    // A consumer's name defaults to its application's name (the lease table's).
    const fanOutConsumer = props.fanOut ? (props.fanOut.consumerName ?? tableName) : undefined;
    // Every worker of an application must use the table's mode: the tasks learn it from the table.
    const coordinatorTable = props.leaseTable.coordinatorTable;
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu, memoryLimitMiB: memoryMiB });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.taskDefinition.addContainer('App', {
      image: props.image,
      command: props.command ? [...props.command] : undefined,
      environment: {
        SHARDLINE_STREAM: props.stream.stream.streamName,
        SHARDLINE_APP: tableName,
        SHARDLINE_LEASE_TABLE: tableName,
        ...(props.archive
          ? {
              SHARDLINE_BUCKET: props.archive.bucket.bucket.bucketName,
              SHARDLINE_PREFIX: props.archive.prefix ?? '',
            }
          : {}),
        ...(fanOutConsumer === undefined ? {} : { SHARDLINE_FAN_OUT_CONSUMER: fanOutConsumer }),
        ...(coordinatorTable === undefined
          ? {}
          : {
              SHARDLINE_LEASE_ASSIGNMENT: 'leader',
              SHARDLINE_COORDINATOR_TABLE: coordinatorTable.tableName,
            }),
        ...(props.healthCheckPort === undefined
          ? {}
          : { SHARDLINE_HEALTH_PORT: String(props.healthCheckPort) }),
        AWS_REGION: Stack.of(this).region,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...props.environment,
      },
      // The image is node:*-slim (no curl): Node's fetch asks /healthz, exit 0 on 200.
      ...(props.healthCheckPort === undefined
        ? {}
        : {
            healthCheck: {
              command: [
                'CMD',
                'node',
                '-e',
                `fetch('http://127.0.0.1:${props.healthCheckPort}/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
              ],
              interval: Duration.seconds(15),
              timeout: Duration.seconds(5),
              retries: 3,
              startPeriod: Duration.seconds(60),
            },
          }),
      secrets: props.secrets ? { ...props.secrets } : undefined,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: id }),
      // SIGTERM → the consumer's stop(): final checkpoints and lease release before Fargate kills it.
      stopTimeout: Duration.seconds(60),
    });
    const role = this.taskDefinition.taskRole;
    if (fanOutConsumer === undefined) props.stream.grantRead(role);
    else {
      props.stream.grantFanOutRead(role);
      const logicalId = Stack.of(props.stream).getLogicalId(
        props.stream.stream.node.defaultChild as kinesis.CfnStream,
      );
      acknowledgeNag(
        role,
        `IAM5[Resource::<${logicalId}.Arn>/consumer/*]`,
        "An enhanced fan-out reader subscribes through its stream's registered consumer, whose ARN ends with its registration time (unknown before it is registered): kinesis:SubscribeToShard and DescribeStreamConsumer on this stream's consumers only.",
      );
    }
    props.leaseTable.grantWorker(role);
    if (props.archive) {
      const { bucket, prefix = '' } = props.archive;
      bucket.grantArchiveWrite(role, prefix);
      // The s3-sink command's start check (HeadBucket, and a write of its own small object).
      if (props.archive.startCheck ?? true) bucket.grantStartCheck(role, tableName);
      const logicalId = Stack.of(bucket).getLogicalId(bucket.bucket.node.defaultChild as s3.CfnBucket);
      acknowledgeNag(
        role,
        `IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
        'An archiver writes new object keys under its prefix (s3:PutObject, s3:AbortMultipartUpload only): the keys are not known in advance.',
      );
    }
    const executionRole = this.taskDefinition.obtainExecutionRole();
    acknowledgeNag(
      executionRole,
      'IAM5[Resource::*]',
      'The task execution role pulls the image: ecr:GetAuthorizationToken has no resource-level permission (AWS requires "*").',
    );

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      enableExecuteCommand: false,
    });
    if (maxTasks > minTasks) {
      const shardsPerTask = props.shardsPerTask ?? 4;
      const scaling = this.service.autoScaleTaskCount({
        minCapacity: Math.max(minTasks, 1),
        maxCapacity: maxTasks,
      });
      // Exact capacity per shard range: k tasks for ((k-1)·shardsPerTask, k·shardsPerTask] shards.
      const steps: appscaling.ScalingInterval[] = [];
      for (let k = Math.max(minTasks, 1); k <= maxTasks; k++) {
        steps.push({
          lower: k === Math.max(minTasks, 1) ? undefined : (k - 1) * shardsPerTask,
          upper: k === maxTasks ? undefined : k * shardsPerTask,
          change: k,
        });
      }
      scaling.scaleOnMetric('ByShardCount', {
        metric: props.stream.metricOpenShardCount(),
        scalingSteps: steps,
        adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      });
    }
  }
}
