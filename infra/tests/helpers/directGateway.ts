import { randomUUID } from 'node:crypto';
import {
  INGEST_EVENT_REQUEST_SCHEMA,
  INGEST_EVENTS_REQUEST_SCHEMA,
  INGEST_LIMITS,
  type JsonSchema,
  type RecordWriterEntry,
  UpstreamError,
} from '@shardline/ingest';
import { type InMemoryRecordWriter, withKinesisFault } from '@shardline/ingest/testing';
import { type IngestVector, VECTOR_SETUP, type VectorResponse } from '@shardline/ingest/vectors';
import { Ajv } from 'ajv';
import {
  EVENT_RESPONSE_TEMPLATE,
  EVENTS_RESPONSE_TEMPLATE,
  eventRequestTemplate,
  eventsRequestTemplate,
  KINESIS_ERROR_RESPONSE_TEMPLATE,
} from '../../src/direct/templates.js';
import { renderMappingTemplate } from './apiGatewayVtl.js';

function compile(schema: JsonSchema) {
  const { $schema: _draft04, ...rest } = schema;
  return new Ajv({ allErrors: true, strict: false }).compile(rest);
}
const models = {
  '/v1/events': compile(INGEST_EVENTS_REQUEST_SCHEMA),
  '/v1/event': compile(INGEST_EVENT_REQUEST_SCHEMA),
};

/** Kinesis's HTTP answer to a PutRecords request body (AWS JSON 1.1, as API Gateway receives it). */
export interface KinesisWireAnswer {
  readonly status: number;
  readonly body: string;
}

/** Where the simulated integration sends the PutRecords request the template built. */
export type KinesisBackend = (vector: IngestVector, putRecordsJson: string) => Promise<KinesisWireAnswer>;

/**
 * An in-memory Kinesis on the wire: enforces the 1 MiB record limit with Kinesis's validation error,
 * applies the vector's faults (`withKinesisFault`), answers as Kinesis does (`__type` errors).
 */
export function inMemoryKinesis(kinesis: InMemoryRecordWriter): KinesisBackend {
  return async (vector, putRecordsJson) => {
    const request = JSON.parse(putRecordsJson) as { Records: { Data: string; PartitionKey: string }[] };
    const entries: RecordWriterEntry[] = request.Records.map((r) => ({
      partitionKey: r.PartitionKey,
      data: Buffer.from(r.Data, 'base64'),
    }));
    const oversize = entries.findIndex(
      (e) => e.data.length + Buffer.byteLength(e.partitionKey) > INGEST_LIMITS.maxRecordBytes,
    );
    if (oversize >= 0) {
      return {
        status: 400,
        body: JSON.stringify({
          __type: 'ValidationException',
          message: `1 validation error detected: Value at 'records.${oversize + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to 1048576`,
        }),
      };
    }
    try {
      const results = await withKinesisFault(kinesis, vector.kinesisFaults).putRecords(entries);
      return {
        status: 200,
        body: JSON.stringify({
          FailedRecordCount: results.filter((r) => 'errorCode' in r).length,
          Records: results.map((r) =>
            'errorCode' in r
              ? { ErrorCode: r.errorCode, ErrorMessage: r.errorMessage }
              : { ShardId: r.shardId, SequenceNumber: r.sequenceNumber },
          ),
        }),
      };
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const status = error.kind === 'unavailable' ? (error.code === 'InternalFailure' ? 500 : 503) : 400;
      return { status, body: JSON.stringify({ __type: error.code, message: error.message }) };
    }
  };
}

/** What the simulated direct integration did with one request. */
export interface DirectRun {
  readonly response: VectorResponse;
  readonly requestId: string;
  /** The PutRecords request the template built (undefined when API Gateway answered before it). */
  readonly putRecords: { StreamName: string; Records: { Data: string; PartitionKey: string }[] } | undefined;
}

/**
 * API Gateway's `direct` mode for one vector request, step by step as IngestApi configures it: API key
 * (INVALID_API_KEY gateway response), media type (no template for it → UNSUPPORTED_MEDIA_TYPE), JSON
 * parse and the contract model (BAD_REQUEST_BODY), the request template, one PutRecords call to
 * `backend` (an in-memory Kinesis with the vector's faults, or kinesalite on the wire), the integration
 * response selected by status (2xx, 4\d{2} → 400, 5\d{2} → 503) and its template.
 */
export async function runDirect(
  vector: IngestVector,
  backend: KinesisBackend,
  streamName = 'events',
): Promise<DirectRun> {
  const requestId = randomUUID();
  const cors = {
    'access-control-allow-origin': VECTOR_SETUP.allowedOrigins[0]!,
    'access-control-expose-headers': 'Retry-After',
    vary: 'Origin',
    'content-type': 'application/json',
  };
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}): DirectRun => ({
    response: { status, headers: { ...cors, ...headers }, body: JSON.stringify(body) },
    requestId,
    putRecords: undefined,
  });
  const { request } = vector;
  const route = request.path as '/v1/events' | '/v1/event';
  if (request.method !== 'POST' || !(route in models))
    throw new Error(`${vector.id}: not a route of the API`);
  if (request.headers['x-api-key'] !== VECTOR_SETUP.apiKey)
    return answer(403, { error: 'Forbidden', message: 'Missing or unknown x-api-key' });
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json')
    return answer(415, { error: 'UnsupportedMediaType', message: 'Content-Type must be application/json' });
  const text = Buffer.from(request.body).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return answer(400, { error: 'ValidationFailed', message: 'Invalid request body' });
  }
  const validate = models[route];
  if (!validate(body))
    return answer(400, { error: 'ValidationFailed', message: JSON.stringify(validate.errors) });

  const context = { requestId, requestTimeEpoch: Date.now() };
  const template =
    route === '/v1/events' ? eventsRequestTemplate(streamName) : eventRequestTemplate(streamName);
  const rendered = renderMappingTemplate(template, text, context);
  const putRecords = JSON.parse(rendered.output) as DirectRun['putRecords'] & {};

  // Kinesis: one PutRecords call with the template's output as the request body.
  const wire = await backend(vector, rendered.output);
  const kinesisStatus = wire.status;
  const [selected, responseTemplate] =
    kinesisStatus < 300
      ? [200, route === '/v1/events' ? EVENTS_RESPONSE_TEMPLATE : EVENT_RESPONSE_TEMPLATE]
      : [kinesisStatus < 500 ? 400 : 503, KINESIS_ERROR_RESPONSE_TEMPLATE];
  const out = renderMappingTemplate(responseTemplate, wire.body, context);
  const headers = Object.fromEntries(
    Object.entries(out.headerOverrides).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    response: {
      status: out.statusOverride ?? selected,
      headers: { ...cors, ...headers },
      body: out.output.trim(),
    },
    requestId,
    putRecords,
  };
}
