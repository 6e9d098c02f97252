import { INGEST_LIMITS } from './limits.js';

/** A JSON Schema document (draft-04 keywords only, so API Gateway models accept it as is). */
export type JsonSchema = { readonly [keyword: string]: unknown };

const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

function recordSchema(): JsonSchema {
  return {
    type: 'object',
    required: ['data'],
    additionalProperties: false,
    properties: {
      data: { description: 'Any JSON value, stored unchanged in value.' },
      partitionKey: {
        type: 'string',
        minLength: 1,
        maxLength: INGEST_LIMITS.maxPartitionKeyLength,
        description:
          '1–256 UTF-16 code units (JSON Schema counts code points, so the gateway is stricter for characters outside the BMP). When absent the gateway uses the event id.',
      },
      eventId: {
        type: 'string',
        minLength: 1,
        maxLength: INGEST_LIMITS.maxEventIdLength,
        pattern: '^[A-Za-z0-9._:-]+$',
        description: 'When absent the gateway generates a UUIDv7.',
      },
    },
  };
}

/**
 * JSON Schema of `POST /v1/events` bodies. It states everything a schema can; the gateway also rejects
 * what a schema cannot say: invalid UTF-8, lone surrogate escapes, `data` nested deeper than 64 levels,
 * duplicate field names, and records whose stored form exceeds 1 MiB (413).
 */
export const INGEST_EVENTS_REQUEST_SCHEMA: JsonSchema = Object.freeze({
  $schema: DRAFT_04,
  title: 'IngestEventsRequest',
  type: 'object',
  required: ['records'],
  additionalProperties: false,
  properties: {
    records: {
      type: 'array',
      minItems: INGEST_LIMITS.minRecordsPerRequest,
      maxItems: INGEST_LIMITS.maxRecordsPerRequest,
      items: recordSchema(),
    },
  },
});

/** JSON Schema of `POST /v1/event` bodies (one record). Same caveats as {@link INGEST_EVENTS_REQUEST_SCHEMA}. */
export const INGEST_EVENT_REQUEST_SCHEMA: JsonSchema = Object.freeze({
  $schema: DRAFT_04,
  title: 'IngestEventRequest',
  ...recordSchema(),
});

const writtenSchema = {
  type: 'object',
  required: ['eventId', 'shardId', 'sequenceNumber'],
  additionalProperties: false,
  properties: {
    eventId: { type: 'string' },
    shardId: { type: 'string' },
    sequenceNumber: { type: 'string', pattern: '^[0-9]+$' },
  },
};
const failedSchema = {
  type: 'object',
  required: ['eventId', 'errorCode', 'errorMessage'],
  additionalProperties: false,
  properties: {
    eventId: { type: 'string' },
    errorCode: { type: 'string' },
    errorMessage: { type: 'string' },
  },
};

/** JSON Schema of `POST /v1/events` answers with status 200, 207 and 429. */
export const INGEST_EVENTS_RESPONSE_SCHEMA: JsonSchema = Object.freeze({
  $schema: DRAFT_04,
  title: 'IngestEventsResponse',
  type: 'object',
  required: ['failedRecordCount', 'records'],
  additionalProperties: false,
  properties: {
    failedRecordCount: { type: 'integer', minimum: 0 },
    records: { type: 'array', items: { oneOf: [writtenSchema, failedSchema] } },
  },
});

/** JSON Schema of `POST /v1/event` answers with status 200. */
export const INGEST_EVENT_RESPONSE_SCHEMA: JsonSchema = Object.freeze({
  $schema: DRAFT_04,
  title: 'IngestEventResponse',
  ...writtenSchema,
});

/** JSON Schema of every error answer. */
export const INGEST_ERROR_RESPONSE_SCHEMA: JsonSchema = Object.freeze({
  $schema: DRAFT_04,
  title: 'IngestErrorResponse',
  type: 'object',
  required: ['error', 'message'],
  additionalProperties: false,
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        additionalProperties: false,
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    eventId: { type: 'string' },
    errorCode: { type: 'string' },
  },
});
