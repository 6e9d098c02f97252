import { isUtf8 } from 'node:buffer';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  INGEST_ERROR_RESPONSE_SCHEMA,
  INGEST_EVENT_REQUEST_SCHEMA,
  INGEST_EVENT_RESPONSE_SCHEMA,
  INGEST_EVENTS_REQUEST_SCHEMA,
  INGEST_EVENTS_RESPONSE_SCHEMA,
  type JsonSchema,
} from '../../src/index.js';
import { InMemoryRecordWriter } from '../../src/testing/index.js';
import {
  checkVectorResponse,
  checkVectorStored,
  ingestVectors,
  VECTOR_SETUP,
} from '../../src/vectors/index.js';
import { replayVector } from '../helpers/replayVector.js';

const vectors = ingestVectors();

async function run(vector: (typeof vectors)[number]) {
  const memory = new InMemoryRecordWriter({ shardCount: 4 });
  const { response, writer } = await replayVector(vector, memory, { baseDelayMs: 1, maxDelayMs: 2 });
  return { response, memory, writer };
}

describe('contract vectors against the handler with an in-memory Kinesis', () => {
  it('has unique ids and covers every rule group', () => {
    const ids = vectors.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(vectors.length).toBeGreaterThan(60);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const { response, memory, writer } = await run(vector);
    expect(checkVectorResponse(vector, response)).toEqual([]);
    expect(checkVectorStored(vector, response.body, memory.records)).toEqual([]);
    if (vector.kinesisFaults) expect(writer.faultHits).toBeGreaterThan(0);
    // Nothing is written for any answer but 200/207.
    if (response.status !== 200 && response.status !== 207) expect(memory.records).toHaveLength(0);
  });
});

function compile(schema: JsonSchema) {
  // The schemas use draft-04 keywords only (API Gateway models); they mean the same in draft-07.
  const { $schema: _ignored, ...rest } = schema;
  return new Ajv({ allErrors: true, strict: false }).compile(rest);
}

describe('the JSON Schemas agree with the handler', () => {
  const validateEvents = compile(INGEST_EVENTS_REQUEST_SCHEMA);
  const validateEvent = compile(INGEST_EVENT_REQUEST_SCHEMA);
  const validateEventsResponse = compile(INGEST_EVENTS_RESPONSE_SCHEMA);
  const validateEventResponse = compile(INGEST_EVENT_RESPONSE_SCHEMA);
  const validateError = compile(INGEST_ERROR_RESPONSE_SCHEMA);
  // Rules a JSON Schema cannot state (documented on INGEST_EVENTS_REQUEST_SCHEMA).
  const beyondSchema = new Set([
    'encoding/lone-high-surrogate',
    'encoding/lone-low-surrogate',
    'depth/65',
    'depth/65-single',
    'schema/partition-key-129-emoji',
    'schema/duplicate-field',
  ]);

  it.each(vectors.map((v) => [v.id, v] as const))('%s', async (id, vector) => {
    const { response } = await run(vector);
    const body = response.body === '' ? undefined : JSON.parse(response.body);
    if (response.status === 204) expect(response.body).toBe('');
    else if (response.status === 200 && vector.request.path === '/v1/event')
      expect(validateEventResponse(body)).toBe(true);
    else if ([200, 207, 429].includes(response.status) && 'records' in body) {
      expect(validateEventsResponse(body), JSON.stringify(validateEventsResponse.errors)).toBe(true);
    } else expect(validateError(body), JSON.stringify(validateError.errors)).toBe(true);

    // Requests that reach validation as plain JSON: the schema accepts exactly what the handler accepts.
    const isPlainJson =
      vector.request.method === 'POST' &&
      vector.request.headers['x-api-key'] === VECTOR_SETUP.apiKey &&
      vector.request.headers['content-type']?.toLowerCase().startsWith('application/json') &&
      vector.request.headers['content-encoding'] === undefined &&
      ['/v1/events', '/v1/event'].includes(vector.request.path) &&
      isUtf8(vector.request.body);
    if (!isPlainJson || response.status === 413 || beyondSchema.has(id)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(
        Buffer.from(vector.request.body)
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
      );
    } catch {
      expect(response.status).toBe(400);
      return;
    }
    const validate = vector.request.path === '/v1/events' ? validateEvents : validateEvent;
    expect(validate(parsed), `schema vs handler status ${response.status}`).toBe(response.status !== 400);
  });
});
