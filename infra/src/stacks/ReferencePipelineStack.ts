import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { propsProblems } from '../config/propsProblems.js';
import { ArchiveBucket } from '../constructs/ArchiveBucket.js';
import { ConsumerService, type ConsumerServiceProps } from '../constructs/ConsumerService.js';
import { EventStream, type EventStreamProps } from '../constructs/EventStream.js';
import { IngestApi, type IngestIntegrationMode } from '../constructs/IngestApi.js';
import { type LeaseAssignment, LeaseTable } from '../constructs/LeaseTable.js';

/**
 * The s3-sink's command: the `shardline-s3-sink` CLI, its flags from the environment the
 * ConsumerService sets; objects, errors and manifests all under `SHARDLINE_PREFIX` (the only keys it may
 * write); `--fan-out` when the service reads with enhanced fan-out, `--lease-assignment` when its lease
 * table is in leader mode. No `${…}` in the command: CloudFormation tooling reads it as a substitution.
 */
const S3_SINK_SHELL = [
  // With SHARDLINE_FAN_OUT_CONSUMER (ConsumerService's fanOut): enhanced fan-out through that consumer.
  '[ -z "$SHARDLINE_FAN_OUT_CONSUMER" ] || set -- --fan-out "$SHARDLINE_FAN_OUT_CONSUMER";',
  // With SHARDLINE_LEASE_ASSIGNMENT (set when the lease table has leaseAssignment 'leader'): that mode.
  '[ -z "$SHARDLINE_LEASE_ASSIGNMENT" ] || set -- "$@" --lease-assignment "$SHARDLINE_LEASE_ASSIGNMENT";',
  'exec node packages/s3-sink/bin/shardline-s3-sink.js "$@"',
  '--stream "$SHARDLINE_STREAM" --app "$SHARDLINE_APP" --bucket "$SHARDLINE_BUCKET"',
  '--prefix "$SHARDLINE_PREFIX"events/ --manifest-prefix "$SHARDLINE_PREFIX"manifests/',
  `--error-prefix "$SHARDLINE_PREFIX"'errors/!{firehose:error-output-type}/' --compression gzip`,
].join(' ');

/** Default container commands, run from the repository root inside the image (docker/consumer.Dockerfile). */
export const DEFAULT_COMMANDS = Object.freeze({
  /** The s3-sink CLI (`shardline-s3-sink`), its flags taken from the `SHARDLINE_*` environment. */
  s3Sink: Object.freeze(['sh', '-c', S3_SINK_SHELL]),
  /** The live-metrics example. */
  liveMetrics: Object.freeze([
    'node',
    '--conditions=@shardline/source',
    '--import',
    'tsx',
    'examples/live-metrics/src/main.ts',
  ]),
});

/** Props of {@link ReferencePipelineStack}. */
export interface ReferencePipelineStackProps extends StackProps {
  /** @defaultValue 'function' */
  readonly ingestMode?: IngestIntegrationMode;
  /** @defaultValue '*' */
  readonly allowedOrigins?: '*' | readonly string[];
  /** The stream's capacity (on-demand by default). */
  readonly stream?: EventStreamProps;
  /**
   * The consumers' image. @defaultValue an image asset built by `cdk deploy` from the repository with
   * `docker/consumer.Dockerfile` (synth only stages the files: no Docker needed to synthesize)
   */
  readonly consumerImage?: ecs.ContainerImage;
  /** The s3-sink's command. @defaultValue {@link DEFAULT_COMMANDS}.s3Sink */
  readonly s3SinkCommand?: readonly string[];
  /** The live-metrics app's command. @defaultValue {@link DEFAULT_COMMANDS}.liveMetrics */
  readonly liveMetricsCommand?: readonly string[];
  /** The s3-sink's key prefix (its objects, errors and manifests; the only keys it may write). @defaultValue 's3-sink/' */
  readonly archivePrefix?: string;
  /** Alarm when the oldest unread record is older than this. @defaultValue 5 minutes */
  readonly maxIteratorAge?: Duration;
  /** Alarm when the API answers more 5xx than this per minute. @defaultValue 5 */
  readonly maxApiServerErrorsPerMinute?: number;
  /**
   * Which consumer applications read with enhanced fan-out (each through a registered consumer named
   * like its application, billed per shard-hour) instead of polling.
   * @defaultValue `{}` (both poll)
   */
  readonly fanOut?: { readonly s3Sink?: boolean; readonly liveMetrics?: boolean };
  /**
   * How each consumer application's workers share its leases (`LeaseTableProps.leaseAssignment`):
   * `'leader'` gives its lease table the `leaseOwner` index and a coordinator table, and tells its
   * tasks (the s3-sink's command passes `--lease-assignment leader`; live metrics reads
   * `SHARDLINE_LEASE_ASSIGNMENT`).
   * @defaultValue `{}` (both `'worker'`)
   */
  readonly leaseAssignment?: {
    readonly s3Sink?: LeaseAssignment;
    readonly liveMetrics?: LeaseAssignment;
  };
  /** What happens to the data stores when the stack is deleted. @defaultValue RemovalPolicy.RETAIN */
  readonly dataRemovalPolicy?: RemovalPolicy;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

/**
 * The reference pipeline: ingest API → encrypted Kinesis stream → two independent consumer
 * applications on Fargate (the s3-sink archiving to S3, and the live-metrics example), each with its
 * own lease table, plus alarms on the consumers' iterator age and the API's 5xx answers.
 *
 * @throws ConfigurationError when props are wrong (every problem listed).
 */
export class ReferencePipelineStack extends Stack {
  readonly ingest: IngestApi;
  readonly events: EventStream;
  readonly archive: ArchiveBucket;
  readonly s3Sink: ConsumerService;
  readonly liveMetrics: ConsumerService;
  readonly iteratorAgeAlarm: cloudwatch.Alarm;
  readonly apiServerErrorAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReferencePipelineStackProps = {}) {
    super(scope, id, props);
    const problems = propsProblems('ReferencePipelineStack');
    problems.optionalMatch(
      'archivePrefix',
      props.archivePrefix,
      /^([a-zA-Z0-9!_.*'()-]+\/)*$/,
      "a key prefix ending in '/' (or '')",
    );
    problems.optionalInteger('maxApiServerErrorsPerMinute', props.maxApiServerErrorsPerMinute, 0, 1_000_000);
    for (const app of ['s3Sink', 'liveMetrics'] as const) {
      problems.optionalOneOf(`leaseAssignment.${app}`, props.leaseAssignment?.[app], ['worker', 'leader']);
    }
    problems.throwIfAny();
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.events = new EventStream(this, 'Events', { removalPolicy, ...props.stream });
    this.ingest = new IngestApi(this, 'Ingest', {
      stream: this.events,
      mode: props.ingestMode,
      allowedOrigins: props.allowedOrigins,
    });
    this.archive = new ArchiveBucket(this, 'Archive', { removalPolicy });

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'consumers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
      // S3 and DynamoDB traffic skips the NAT gateway (and its per-GB charge).
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const image =
      props.consumerImage ??
      ecs.ContainerImage.fromAsset(repoRoot(), {
        file: 'infra/docker/consumer.Dockerfile',
        exclude: [
          '**/node_modules',
          '**/dist',
          '**/cdk.out',
          '.git',
          'bench-results',
          'test-results',
          '.shardline',
        ],
      });

    // An application on the stream: its own lease table (`<stack>-<tableSuffix>`) and its service.
    const application = (
      id: string,
      app: 's3Sink' | 'liveMetrics',
      tableSuffix: string,
      service: Omit<ConsumerServiceProps, 'cluster' | 'stream' | 'leaseTable' | 'image' | 'fanOut'>,
    ) => {
      const leaseTable = new LeaseTable(this, `${id}Leases`, {
        tableName: `${this.stackName}-${tableSuffix}`,
        removalPolicy,
        leaseAssignment: props.leaseAssignment?.[app],
      });
      return new ConsumerService(this, id, {
        cluster,
        stream: this.events,
        leaseTable,
        image,
        ...service,
        ...(props.fanOut?.[app] ? { fanOut: {} } : {}),
      });
    };
    this.s3Sink = application('S3Sink', 's3Sink', 's3-sink', {
      command: props.s3SinkCommand ?? DEFAULT_COMMANDS.s3Sink,
      archive: { bucket: this.archive, prefix: props.archivePrefix ?? 's3-sink/' },
    });
    this.liveMetrics = application('LiveMetrics', 'liveMetrics', 'live-metrics', {
      command: props.liveMetricsCommand ?? DEFAULT_COMMANDS.liveMetrics,
      maxTasks: 1,
      cpu: 256,
      memoryMiB: 512,
    });

    const maxAge = props.maxIteratorAge ?? Duration.minutes(5);
    this.iteratorAgeAlarm = new cloudwatch.Alarm(this, 'IteratorAgeHigh', {
      alarmDescription: `The oldest unread record is older than ${maxAge.toHumanString()}: a consumer is falling behind or stopped`,
      metric: this.events.stream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: maxAge.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    this.apiServerErrorAlarm = new cloudwatch.Alarm(this, 'ApiServerErrors', {
      alarmDescription: 'The ingest API answers 5xx: clients retry, but Kinesis or the function is failing',
      metric: this.ingest.metricServerErrors(),
      threshold: props.maxApiServerErrorsPerMinute ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    new CfnOutput(this, 'IngestUrl', { value: `${this.ingest.url}v1/events` });
    new CfnOutput(this, 'ApiKeyId', { value: this.ingest.apiKey.keyId });
    new CfnOutput(this, 'StreamName', { value: this.events.stream.streamName });
    new CfnOutput(this, 'ArchiveBucket', { value: this.archive.bucket.bucketName });
  }
}
