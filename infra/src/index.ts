// Constructs

export type { ArchiveBucketProps } from './constructs/ArchiveBucket.js';
export { ARCHIVE_WRITER_ACTIONS, ArchiveBucket } from './constructs/ArchiveBucket.js';
export type { ConsumerServiceProps } from './constructs/ConsumerService.js';
export { ConsumerService } from './constructs/ConsumerService.js';
export type { EventStreamProps, ShardScalingOptions } from './constructs/EventStream.js';
export {
  EventStream,
  STREAM_READER_ACTIONS,
  STREAM_WRITER_ACTIONS,
  StreamCapacityMode,
} from './constructs/EventStream.js';
export type { IngestApiProps } from './constructs/IngestApi.js';
export { IngestApi, IngestIntegrationMode } from './constructs/IngestApi.js';
export type { LeaseTableProps } from './constructs/LeaseTable.js';
export { LEASE_TABLE_WORKER_ACTIONS, LeaseTable } from './constructs/LeaseTable.js';

// The reference stack and app

export { buildApp } from './app.js';
export type { NagAcknowledgement } from './nagAcknowledgements.js';
export { acknowledgeReferenceFindings, REFERENCE_PIPELINE_ACKNOWLEDGEMENTS } from './nagAcknowledgements.js';
export type { ReferencePipelineStackProps } from './stacks/ReferencePipelineStack.js';
export { DEFAULT_COMMANDS, ReferencePipelineStack } from './stacks/ReferencePipelineStack.js';

// The direct mode's templates

export {
  EVENT_RESPONSE_TEMPLATE,
  EVENTS_RESPONSE_TEMPLATE,
  eventRequestTemplate,
  eventsRequestTemplate,
  KINESIS_ERROR_RESPONSE_TEMPLATE,
} from './direct/templates.js';

// The function mode's adapter

export type {
  ApiGatewayIngestHandler,
  ApiGatewayProxyEvent,
  ApiGatewayProxyResult,
  LambdaContextLike,
} from './lambda/apiGatewayAdapter.js';
export { createApiGatewayIngestHandler, toIngestRequest, toProxyResult } from './lambda/apiGatewayAdapter.js';

// Stream scaling

export type { ShardCountDecision, ShardScalingPolicy, StreamLoad } from './scaling/decideShardCount.js';
export {
  decideShardCount,
  SHARD_SCALING_DEFAULTS,
  SHARD_WRITE_CAPACITY,
  UPDATE_SHARD_COUNT_LIMITS,
} from './scaling/decideShardCount.js';
export { OPEN_SHARD_COUNT_METRIC } from './scaling/openShardCountMetric.js';

// Errors

export type { ConfigurationProblem } from './errors.js';
export { ConfigurationError, InfraError } from './errors.js';
