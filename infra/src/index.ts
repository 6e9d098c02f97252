// @shardline/infra: the CDK constructs of the reference pipeline, and the stack that puts them together.
// The app (src/app.ts), the Lambda functions, the direct mode's templates and the scaler's decision are
// reached through their own modules.

// Constructs

export type { ArchiveBucketProps } from './constructs/ArchiveBucket.js';
export { ARCHIVE_WRITER_ACTIONS, ArchiveBucket, START_CHECK_KEY_PREFIX } from './constructs/ArchiveBucket.js';
export type { ArchiveTableProps } from './constructs/ArchiveTable.js';
export { ArchiveTable } from './constructs/ArchiveTable.js';
export type {
  ArchiveColumn,
  ArchiveLayout,
  ArchiveRecordContent,
  ArchiveSchema,
  GlueColumn,
  PartitionProjection,
} from './constructs/archiveLayout.js';
export { ArchiveColumnType, ArchiveFormat, GLUE_TYPES } from './constructs/archiveLayout.js';
export type { ConsumerServiceProps } from './constructs/ConsumerService.js';
export { ConsumerService } from './constructs/ConsumerService.js';
export type { EventStreamProps, ShardScalingOptions } from './constructs/EventStream.js';
export {
  EventStream,
  STREAM_READER_ACTIONS,
  STREAM_WRITER_ACTIONS,
  StreamCapacityMode,
} from './constructs/EventStream.js';
export type {
  IngestApiProps,
  IngestClient,
  IngestClientKey,
  IngestQuotaPeriod,
  IngestWafOptions,
} from './constructs/IngestApi.js';
export {
  ANY_ORIGIN,
  DEFAULT_INGEST_CLIENTS,
  IngestApi,
  IngestIntegrationMode,
} from './constructs/IngestApi.js';
export type { LeaseAssignment, LeaseTableProps } from './constructs/LeaseTable.js';
export {
  COORDINATOR_TABLE_WORKER_ACTIONS,
  LEASE_OWNER_INDEX_NAME,
  LEASE_OWNER_INDEX_WORKER_ACTIONS,
  LEASE_TABLE_WORKER_ACTIONS,
  LeaseTable,
} from './constructs/LeaseTable.js';
// The provisioned stream's scaler: its policy and defaults (the props of EventStream refer to them).
export type { ShardScalingPolicy } from './scaling/decideShardCount.js';
export { SHARD_SCALING_DEFAULTS } from './scaling/decideShardCount.js';

// The reference stack

export type {
  ReferencePipelineStackProps,
  S3SinkArchiveSettings,
  S3SinkMetricsSettings,
} from './stacks/ReferencePipelineStack.js';
export {
  DEFAULT_COMMANDS,
  METRICS_NAMESPACE,
  ReferencePipelineStack,
  S3_SINK_FLAG_VARIABLES,
  SINK_HEALTH_PORT,
} from './stacks/ReferencePipelineStack.js';

// Errors

export type { ConfigurationProblem } from './errors.js';
export { ConfigurationError, InfraError } from './errors.js';
