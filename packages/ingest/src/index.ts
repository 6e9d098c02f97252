// The contract

export {
  API_KEY_HEADER,
  EVENT_ID_PATTERN,
  INGEST_ERROR_STATUS,
  INGEST_LIMITS,
  IngestErrorCode,
  IngestRoute,
  THROTTLED_RECORD_ERROR_CODE,
} from './contract/limits.js';
export type { JsonSchema } from './contract/schema.js';
export {
  INGEST_ERROR_RESPONSE_SCHEMA,
  INGEST_EVENT_REQUEST_SCHEMA,
  INGEST_EVENT_RESPONSE_SCHEMA,
  INGEST_EVENTS_REQUEST_SCHEMA,
  INGEST_EVENTS_RESPONSE_SCHEMA,
} from './contract/schema.js';
export type {
  IngestErrorResponse,
  IngestEventResponse,
  IngestEventsRequest,
  IngestEventsResponse,
  IngestProblem,
  IngestRecordFailed,
  IngestRecordInput,
  IngestRecordResult,
  IngestRecordWritten,
} from './contract/types.js';
export { isFailedRecord } from './contract/types.js';

// The envelope codec

export type { DecodeEnvelopeOptions, EnvelopeInput, EventEnvelope } from './envelope/envelopeCodec.js';
export {
  checkEnvelope,
  DecodedEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  envelopeByteLength,
} from './envelope/envelopeCodec.js';
export { UUID_V7_PATTERN, uuidv7 } from './envelope/uuidv7.js';
export { BigIntegerMode, parseJson } from './json/parseJson.js';

// The handler

export type {
  IngestHandleOptions,
  IngestHandler,
  IngestRequest,
  IngestResponse,
} from './handler/createIngestHandler.js';
export { createIngestHandler } from './handler/createIngestHandler.js';
export type { RequestBody } from './handler/readBody.js';
export type {
  ApiKeyCheck,
  IngestHandlerOptions,
  ResolvedIngestHandlerConfig,
  ThrottleRetryOptions,
} from './handler/resolveIngestHandlerConfig.js';
export { INGEST_HANDLER_DEFAULTS, resolveIngestHandlerConfig } from './handler/resolveIngestHandlerConfig.js';

// The Kinesis port and adapter

export type { KinesisRecordWriterOptions } from './kinesis/KinesisRecordWriter.js';
export { KinesisRecordWriter, translateKinesisError } from './kinesis/KinesisRecordWriter.js';
export type {
  RecordWriteFailure,
  RecordWriteResult,
  RecordWriter,
  RecordWriterEntry,
  RecordWriteSuccess,
} from './kinesis/RecordWriter.js';
export { isRecordWriteFailure } from './kinesis/RecordWriter.js';

// Errors

export type { ConfigurationProblem } from './errors.js';
export {
  ConfigurationError,
  EnvelopeDecodeError,
  EnvelopeEncodeError,
  IngestError,
  JsonSyntaxError,
  UpstreamError,
  UpstreamFailureKind,
} from './errors.js';
