// @shardline/s3-sink: a Firehose-style Kinesis to S3 archiver with exactly-once objects.

// Configuration
export type {
  ParquetOptions,
  ResolvedEventTime,
  ResolvedS3SinkConfig,
  S3ClientLike,
  S3SinkConsumerOptions,
  S3SinkOptions,
} from './config/resolveS3SinkConfig.js';
export { resolveS3SinkConfig, S3_SINK_DEFAULTS, S3_SINK_LIMITS } from './config/resolveS3SinkConfig.js';

// Errors
export type { ConfigurationProblem } from './errors.js';
export {
  ConfigurationError,
  InvalidStateError,
  PendingStateError,
  S3SinkError,
  S3WriteError,
} from './errors.js';

// Keys
export type {
  KeyTemplate,
  KeyTemplatePart,
  KeyTemplateRules,
  KeyValues,
  TimestampToken,
} from './keys/KeyTemplate.js';
export { ErrorOutputType, objectFileName, parseKeyTemplate, renderKeyTemplate } from './keys/KeyTemplate.js';
// OpenTelemetry instrument names
export { S3SinkMetricName } from './metrics/S3SinkInstruments.js';
// Compression codecs
export type { CompressionCodec } from './objects/compression.js';
export { gzipCompression, noCompression } from './objects/compression.js';
export { ParquetCompression } from './objects/formats/ParquetFormat.js';
export type { ParquetColumn, ParquetSchema, ParquetSchemaSource } from './objects/formats/parquetSchema.js';
export { ParquetColumnType } from './objects/formats/parquetSchema.js';
// Record formats (the seam between routing and compression)
export type { ObjectBody, ObjectRecords, RecordFormat } from './objects/formats/RecordFormat.js';
export { formatFingerprint, RecordFormatName } from './objects/formats/RecordFormat.js';
// Partition queries on the envelope, and what reaches an object
export type { EnvelopeQuery, EnvelopeQuerySegment, QueryInput } from './routing/EnvelopeQuery.js';
export { evaluateEnvelopeQuery, parseEnvelopeQuery } from './routing/EnvelopeQuery.js';
// Event-time partitioning and Firehose-style (jq) partition queries
export { EPOCH_MILLIS_THRESHOLD, parseEventTime, TimeFieldFormat } from './routing/eventTime.js';
export { FIREHOSE_QUERY_SUPPORTED, parseFirehoseQuery } from './routing/FirehoseQuery.js';
export type { DataRoute, DroppedRoute, ErrorRoute, RecordRoute } from './routing/RecordRouter.js';
export { InvalidRecordPolicy, RecordContent } from './routing/RecordRouter.js';
// Record transformation (Firehose's data transformation, in process)
export type { RecordTransform, TransformResult } from './routing/RecordTransform.js';
export { TransformResultType } from './routing/RecordTransform.js';

// The sink
export type { S3Sink } from './S3Sink.js';
export { createS3Sink, S3SinkState } from './S3Sink.js';
export type { S3SinkEvent, S3SinkHookInfo, S3SinkHooks, S3SinkMetrics } from './S3SinkEvents.js';
export { S3SinkEventType, SealReason } from './S3SinkEvents.js';
export type { ObjectManifest } from './upload/ObjectWriter.js';
